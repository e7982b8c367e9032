#ifdef MARK
int marked_a;
#endif
int a(void) { return 1; }
#ifdef BREAKALL
#error "does not build with -DBREAKALL"
#endif
