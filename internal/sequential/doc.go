// Package sequential decides crashrig compare: whether one kernel (or build, or option)
// crashes more often than another, from runs that finish one at a time, stopping as soon
// as the chosen error rates allow.
//
// It is a pure state machine (no I/O, no clock): see Comparison.
package sequential
