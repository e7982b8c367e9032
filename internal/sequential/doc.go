// Package sequential decides crashrig compare: whether one variant of a run configuration
// (a kernel, a build, an option) crashes more often than another, from runs that finish
// one at a time, stopping as soon as the chosen error rates allow.
//
// It is a pure state machine, [Comparison]: no I/O, no clock, no goroutines. The caller
// asks [Comparison.Next] which variant to start, reports each finished run with
// [Comparison.Record] (or [Comparison.Cancel] for a run that produced no result), may
// stop a running VM early at [Comparison.StopAfter], and stops when [Comparison.Done].
// [Comparison.Decisions] says where each comparison stands. [Simulate] and [CompareDesigns] drive it
// with fake runs of known crash-time laws, for tests and for crashrig bench.
//
// # The decision procedure (LogRank, the default)
//
// Variants[0] is A; every other variant B is compared with A. Runs are handed out in heats,
// A's i-th run with B's i-th run, interleaved across the VM slots. After every finished
// run the comparison looks at all heats both of whose runs have finished (a heat still
// running is left out whole: its first run to end did so because it crashed early, and
// counting it alone would favour whichever variant starts first) and weighs them by the
// two-sample partial likelihood, the likelihood behind the log-rank test: at each crash
// time, the chance that the crash came from A given which runs of A and of B were still
// running, as a function of the hazard ratio θ = λA/λB. Crashes, clean ends and runs
// stopped early all count, the last two as censored at their end; crash times within
// Ties (10 % or 50 ms) of each other are one tied time, weighed exactly (Fisher's
// noncentral hypergeometric law).
//
// Each direction is a test of its own at α/2 and β:
//
//   - "A crashes more" rejects "no difference" when the mixture e-value
//     E = Σ wⱼ L(θⱼ)/L(1), over θⱼ = MinRatio^{1, 2, 3, 5, 12} with weights ½, ⅛, ⅛, ⅛, ⅛,
//     reaches 2/α (40 at α = .05). Half the weight sits on MinRatio so that near the
//     smallest effect asked for the test is nearly as quick as an SPRT tuned to it; the
//     rest lets large effects decide fast: a crash in every one of 5 runs of A against
//     none in 5 of B is 1 ordering in C(10, 5) = 252 under no difference and decides.
//   - It closes for good (can no longer reject) when L(1)/L(MinRatio) reaches 1/β (20).
//
// "B crashes more" is the same with θ below 1. The outcome is MoreA or MoreB when a
// direction rejects, NoDifference when both have closed, BothAlways when both variants
// crashed in every one of at least 5 runs and the 1−β/5 interval on the ratio of their
// times to crash lies inside (1/MinRatio, MinRatio), and Undecided when MaxRuns or
// MaxVMSeconds is spent first. A run whose heat partner crashed at t is stopped at
// max(StopFactor·t, the end of t's tie window) (Comparison.StopAfter): past that it adds
// little, and a stopped run is a censored observation, never a pass.
//
// # Its guarantee
//
// Under "no difference" (A and B have the same law of time to crash, whatever its shape)
// L(θ)/L(1) computed on a fixed cohort of runs is a nonnegative martingale in reproducer
// time, for every θ, and so is the mixture; by Ville's inequality the chance it ever
// reaches 2/α is at most α/2, however often it is looked at, so a false difference has
// probability at most α. Likewise, when A's hazard is MinRatio times B's or more at every
// second (proportional hazards: exponential, Weibull of one shape, "B never crashes"),
// L(1)/L(MinRatio) is a supermartingale and wrongly closing that direction has probability
// at most β. The cohort here grows as heats are added, which the martingale argument does
// not cover exactly; the simulations in the tests check both error rates on exponential,
// Weibull k = 0.5 and k = 2, deterministic and "never crashes" truths, with 2 and 8 VMs, cut
// and uncut runs, and find every rate within its bound plus three binomial standard
// deviations (2000 comparisons per scenario; figures in docs/decisions.md). BothAlways can
// only stand in for a difference, never make one, so it does not touch α.
//
// The ratio in a Decision is the maximum partial-likelihood hazard ratio with its
// profile-likelihood interval, computed as for a fixed sample: after a sequential stop it
// is nominal and tends to overstate the difference. What decides is the e-values, which
// Decision.Evidence reports with their threshold.
//
// # The points methods (Race, Exposure, PerRun)
//
// The older methods turn runs into points, each won by A or by B:
//
//   - Race (notes/statistics.md §6 "paired race"): the first of a heat's two runs to crash,
//     in reproducer seconds from its own start, wins the point, and the other run is
//     useless from that second on (StopAfter tells the harness so). A heat where neither
//     crashes within the limit gives no point.
//   - Exposure: each variant's runs are laid end to end on its own exposure clock;
//     every crash inside the exposure both variants have covered is a point for its
//     variant. The scheduler keeps the clocks level, and StopAfter names the exposure at
//     which crashes the other variant already had will decide the test.
//   - PerRun: runs are paired as for Race but run to their limit; a heat where exactly
//     one crashed is a point for it.
//
// If the variants crash alike, each point is A's with probability ½; if A crashes R times
// as often as B, with probability R/(1+R). Two one-sided stats.BernoulliSPRTs run on the
// points: "A crashes more" (p = ½ against R/(1+R) on A's share of the points) and "B
// crashes more" (the same on B's share), with R = MinRatio and Wald's bounds at α/2 and β;
// a test freezes at its first crossing. The outcome is
//
//   - MoreA when the first accepts its H1, MoreB when the second does;
//   - NoDifference when both have accepted H0: no difference of MinRatio or more;
//   - Undecided when MaxVMSeconds or MaxRuns is spent first;
//
// with the ratio and a Clopper–Pearson interval from the points (nA, nB) mapped through
// R = p/(1−p). At α = β = .05 and R = 2 a point for A adds ln(4/3) = .288 to the first test
// and a point for B ln(2/3) = −.405, so 13 straight points for A decide MoreA: the race
// cannot decide a crash in every run against none in fewer than 26 runs, and a
// deterministic lead of a few milliseconds wins every heat.
//
// With more than two variants each comparison gets α/(K−1) (Bonferroni) and its own β.
// With Config.FixedRuns the sequential test is replaced by N runs per variant and one
// fixed-sample test at the end (the exact conditional rate-ratio test, or Fisher's exact
// test for PerRun).
//
// # Assumptions and error rates of the points methods
//
// Runs are independent, and all runs of a comparison have the same limit and setup.
//
// Race needs nothing else for its α: when A and B crash alike, whatever the shape of the
// hazard, each heat is won by either with probability ½, so the chance of a false "A
// crashes more" is at most α/2 (Wald; overshoot makes it smaller) and of any false
// difference at most α. Its β holds when the hazards are proportional, λA(t) = R·λB(t) at
// every second of a run, because the winner of a race is then A with probability R/(1+R)
// at whatever time the first crash comes; constant hazards (exponential crash times) are
// the common case, and MinRatio is then the ratio of crash rates and of MTTCs. For
// hazards that are not proportional, Race answers "which crashes first", which is what a
// developer waiting for a reproducer cares about. Race wastes the time of heats where
// neither crashes, and it relies on the harness stopping the losing run at StopAfter:
// without that the losing VM runs on to its limit for nothing (the "runs not cut" row of
// the benchmark costs 5.8× as much).
//
// Exposure uses every VM second but its points are independent only under a constant
// hazard. With a rising hazard (crashes need time to build up, Weibull k > 1) it loses
// power, because restarting runs hides the crash (notes/statistics.md §4): it missed a
// hazard ratio of 2 at k = 2 in half the simulated comparisons. With a falling hazard
// (early or never, k < 1) crashes bunch on the exposure clock and its α is far too high:
// a false difference in .42 of them at k = 0.5. Its points also follow the order runs are
// recorded in, which is exact with one run per variant at a time; with many VMs per
// variant crashes are recorded before long clean runs started with them, which costs power
// (β ≈ .10 with 4 VMs per variant). Use it only when the hazard check (stats.CheckHazard,
// reported in Decision.Warnings) finds the hazard constant and one VM runs per variant.
//
// PerRun is the per-run Bernoulli test of notes/statistics.md §4: it compares p(crash
// within the limit), assumes nothing about when crashes happen, and suits a rising hazard
// with a limit at or above the p95 time to crash. MinRatio is then an odds ratio. It
// needs both variants to crash rarely enough for runs to disagree: with p(crash) near 1
// for both it needs thousands of runs.
//
// Simulations in the tests (limit 600 s, α = β = .05, R = 2, 2000 comparisons a scenario)
// find for Race a false difference rate of .032–.049 for equal variants (exponential,
// Weibull k = 2 and k = 0.5, 2 or 8 VMs, runs cut or not) and a miss rate of .038–.045
// at exactly R = 2 (exponential, and Weibull k = 2 and 0.5 with proportional hazards).
// Clearing a clean kernel against one with MTTC 60 s takes about 1550 VM-seconds, against
// 6600 for 10 runs of 10 × MTTC per variant and 13700 for the fixed-sample test with the
// same α and β (CompareDesigns prints the full table). For one kernel against a known MTTC,
// stats.PoissonSPRT clears it in 176.7 VM-seconds against 600 for one 10-minute run.
//
// The ratio interval in a Decision is computed as for a fixed sample. After a sequential
// stop it is only nominal, and it tends to overstate the difference, since the test
// stops when the evidence runs high.
package sequential
