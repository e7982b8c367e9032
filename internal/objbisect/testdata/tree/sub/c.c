#ifdef MARK
int marked_c;
#endif
int c(void) { return 3; }
