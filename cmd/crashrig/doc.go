// Command crashrig boots a Linux kernel under qemu with a minimal initramfs
// holding a reproducer program, reads the serial console and answers: did
// it crash, what crashed (a stable one-line title), after how long.
//
// Usage:
//
//	crashrig run -k KERNEL [-r REPRO] [-d DURATION] [flags] [-- REPRO-ARGS...]
//	crashrig shell -k KERNEL [--base busybox|u-root] [-r REPRO]
//	crashrig initramfs -o FILE [-r REPRO] [--base B] [--init-script seed]
//	crashrig parse [--json] [-v] FILE...
//	crashrig doctor [-k KERNEL]
//	crashrig reproducers
//
// See manual below (printed by crashrig --help) for details.
package main

const manual = `crashrig boots a Linux kernel under qemu with a minimal initramfs holding a
reproducer, reads the serial console and says whether it crashed, what
crashed (a stable one-line title) and after how long.

Commands:
  run          boot once and report the verdict
  shell        boot the same image with a shell on the console (Ctrl-] leaves)
  initramfs    write the image crashrig boots, for use by hand
  parse        title the crashes in saved console logs
  doctor       check qemu, KVM and a kernel image
  reproducers  list the built-in reproducers

Verdicts and exit status of run:
  0 pass        the reproducer ran its duration (or exited 0) without a crash
  1 crash       a kernel or Go crash report, a fatal signal, a non-zero exit
  2             bad input or usage (nothing is written)
  3 hang        no heartbeat from the guest, or no exit after the duration
  4 boot-fail   the reproducer never started
  5 infra-fail  the host failed (qemu refused, KVM unusable, qemu killed)
  130           interrupted

Files: console logs under $XDG_STATE_HOME/crashrig/logs, guest binaries,
images and the KVM probe answer under $XDG_CACHE_HOME/crashrig
($CRASHRIG_CACHE overrides).`
