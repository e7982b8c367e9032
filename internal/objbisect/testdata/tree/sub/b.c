#ifdef MARK
int marked_b;
#endif
int b(void) { return 2; }
