// Package objbisect finds the objects whose extra compiler flags make a kernel crash:
// Builder is the bisect.SetTester that builds kernels in one tree with crashrig's compiler
// wrapper (package ccwrap), rebuilding only the objects whose flags changed, and boots
// them; bisect.Minimal narrows the objects down.
package objbisect
