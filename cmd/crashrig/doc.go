// Command crashrig boots a Linux kernel under qemu with a minimal initramfs
// holding a reproducer program, reads the serial console and answers: did
// it crash, what crashed (a stable one-line title), after how long.
//
// Usage:
//
//	crashrig run -k KERNEL [-r REPRO] [-d DURATION] [flags] [-- REPRO-ARGS...]
//	crashrig compare -k A=KERNEL -k B=KERNEL | -k KERNEL --variant A=FLAGS --variant B=FLAGS [flags]
//	crashrig report [SESSION] [--format md|json|html|junit] [--html FILE]
//	crashrig batch PLAN.yaml [-j N] [--deadline 07:00] [--resume] [--shard i/N] [--dry-run]
//	crashrig merge SHARD.db... --db ALL.db
//	crashrig sessions [--json]
//	crashrig runs [SESSION] [--json]
//	crashrig log RUN-ID
//	crashrig shell -k KERNEL [--base busybox|u-root] [-r REPRO]
//	crashrig initramfs -o FILE [-r REPRO] [--base B] [--init-script seed]
//	crashrig parse [--json] [-v] FILE...
//	crashrig doctor [-k KERNEL]
//	crashrig reproducers
//	crashrig gonofix [--go GO]
//	crashrig bench -k KERNEL | --throughput N | --compare-sim N | --snapshot
//	crashrig bisect git --repo DIR --good A --bad B --build CMD -k KERNEL -r REPRO [flags]
//	crashrig bisect config --repo SRC --good GOOD.config --bad BAD.config -r REPRO [flags]
//	crashrig bisect objects --repo SRC --config FILE --flags FLAGS -r REPRO [--only PREFIX] [flags]
//	crashrig bisect bench [--reps N]
//	crashrig run --bisect -k KERNEL -r REPRO [-n N]   (for git bisect run)
//	crashrig cc -- COMPILER ARGS...                   (make CC='crashrig cc -- gcc')
//	crashrig story vdso [--out DIR] [--reduced]
//
// See manual below (printed by crashrig --help) for details.
package main

const manual = `crashrig boots a Linux kernel under qemu with a minimal initramfs holding a
reproducer, reads the serial console and says whether it crashed, what
crashed (a stable one-line title) and after how long.

Commands:
  run          boot once (or -n N times) and report the verdict
  compare      run variants side by side until a sequential test decides
  report       the statistics of a recorded session (text, md, json, html, junit)
  batch        run a plan file's cells overnight: resumable, deadline, shards
  merge        join shard databases of a batch
  sessions     list the recorded sessions, newest first
  runs         list the runs of a session, newest first
  log          the stored console of one run
  shell        boot the same image with a shell on the console (Ctrl-] leaves)
  initramfs    write the image crashrig boots, for use by hand
  parse        title the crashes in saved console logs
  doctor       check qemu, KVM and a kernel image
  reproducers  list the built-in reproducers
  gonofix      make a Go toolchain without the Go 20427 fix, for a positive control
  bench        measure crashrig against the seed story's method; simulate comparisons
  bisect       find the commit (git), the config options (config) or the objects
               built with extra flags (objects) that make a reproducer crash;
               bisect bench simulates bisections of flaky crashes
  cc           compiler wrapper for bisect objects: extra flags for the objects a
               hash pattern selects
  story        re-enact the seed story end to end (story vdso): kernels, decisions,
               the bisection and one report

Verdicts and exit status of run:
  0 pass        the reproducer ran its duration (or exited 0) without a crash
  1 crash       a kernel or Go crash report, a fatal signal, a non-zero exit
  2             bad input or usage (nothing is written)
  3 hang        no heartbeat from the guest, or no exit after the duration
  4 boot-fail   the reproducer never started
  5 infra-fail  the host failed (qemu refused, KVM unusable, qemu killed)
  130           interrupted
A run a comparison stopped early is "stopped": crash-free as far as it ran.

--snapshot (run, compare, batch): boot once per configuration to the reproducer's
start, save the VM state and start every run from it; each run gets fresh
entropy, the host's clock and its own orders. Kernel-side boot-time
randomness (KASLR, slab freelist order) is that of the saved boot.

Exit status of compare: 0 no difference, 10 the first variant crashes more,
11 another does, 12 undecided within the budget (the same command with a
larger one continues), 13 both crash every run, 2 usage, 5 infra-fail.

Exit status of batch: 0 the batch ended (complete, or cut by its deadline or
budget), 2 bad plan or usage, 5 infra-fail, 130 interrupted (--resume continues).

Exit status of bisect: 0 culprit named, 12 inconclusive (a range or the
candidates left), 2 usage, 5 infra-fail, 130 interrupted (bisect git resumes
when run again). Of run --bisect, as git bisect run reads it: 0 good, 1 bad
(crash or hang), 125 skip (kernel or reproducer missing, boot-fail, only
infra-fail), 128 crashrig's own error (git bisect run stops), 130 interrupted.

Files: console logs under $XDG_STATE_HOME/crashrig/logs, bisections under
$XDG_STATE_HOME/crashrig/bisect (or --work), guest binaries, images, saved VM
states (snapshots/, owner only) and the KVM probe answer under
$XDG_CACHE_HOME/crashrig
($CRASHRIG_CACHE overrides).`
