#ifdef MARK
int marked_a;
#endif
int a(void) { return 1; }
