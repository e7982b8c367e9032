// Package vdsostack is the built-in reproducer for crashrig's seed story: a
// kernel whose vDSO was built with -fstack-check probes about 4 KiB below
// the caller's stack pointer with a non-atomic `orq $0x0,(%rsp)`, which
// silently undoes other threads' writes to that word (Go issue #20427,
// docs/vdso-stack-probe.md).
//
// It runs in the guest as "vdsostack" (Main) and does two things:
//
//   - measure: for each vDSO function it finds the smallest stack headroom
//     the call survives, by calling the function with the stack pointer
//     placed H bytes above a guard region, in a fresh child process per H
//     (a fault in foreign code cannot be recovered), binary-searching H in
//     16-byte steps. The footprint counts from the caller's stack pointer,
//     the call's own return address included, so it is deterministic to 16
//     bytes: 32–48 on stock kernels, 4160 with the seed's probe.
//   - race: it places counter words where the deepest access lands,
//     increments them atomically from other goroutines while calling the
//     function on that stack in a loop, and counts increments that vanished.
//     Only a non-atomic read-modify-write of those words can lose one.
//
// The verdict fails, with a title for crashrig's report, when a footprint
// exceeds the headroom Go 1.9 left for the vDSO (104 bytes below the return
// address, -headroom) or when any update is lost; otherwise it passes and
// the numbers go into the run record as info markers. A footprint beyond the
// headroom fails at once, before the other functions are measured and before
// the race (-race-always measures and races anyway), so a
// probed kernel is convicted about two seconds into the run. -sim replaces the vDSO
// by a built-in function with the seed's probe, a positive control that
// fails both checks (the race only with GOMAXPROCS >= 2, the story's clue).
//
// The package is linux/amd64 only; elsewhere Main reports that and exits 2.
package vdsostack

// Summary is the one-line description in crashrig's list of reproducers.
const Summary = "measure the vDSO's stack footprint and race its stack probe against atomic counters"
