#ifdef MARK
int marked_b;
#endif
int b(void) { return 2; }
#ifdef BREAKALL
#error "does not build with -DBREAKALL"
#endif
