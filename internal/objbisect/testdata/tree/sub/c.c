#ifdef MARK
int marked_c;
#endif
int c(void) { return 3; }
#if defined(BREAK) || defined(BREAKALL)
#error "does not build with -DBREAK"
#endif
