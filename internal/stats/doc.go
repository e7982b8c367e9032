// Package stats turns crashrig run records into the numbers a kernel developer acts on: how
// likely a run is to crash, how fast crashes come, when in a run they happen, whether two
// kernels differ, and when enough VM time has been spent to stop.
//
// Everything here is a pure function of its arguments: no I/O, no clocks, no randomness.
// Times are float64 seconds of reproducer time (VM-seconds); boot time is not exposure.
//
// # Model
//
// A run is one reproducer start. It ends in a crash after Time seconds or, if no crash
// happened, it is right-censored at Time (its limit, or wherever the caller stopped it).
// Runs that never reached the reproducer (boot failures, host faults, interrupted runs) are
// not observations: the caller drops them. A hang is data: the caller decides whether it is
// a crash (the reproducer stopped making progress) or a censored run, and should say so.
//
// Rates, mean time to crash (MTTC) and the exposure SPRT assume a constant hazard: a crash
// is equally likely in every second of reproducer time, however the time is split into runs.
// [KaplanMeier] shows when crashes really happen and [CheckHazard] warns when that
// assumption is clearly wrong (notes/statistics.md §4): with a rising hazard many short runs
// can miss a bug that one long run finds, and a per-run (Bernoulli) test is the honest one.
//
// # What it offers
//
//   - Crash probability per run: [Wilson] and [ClopperPearson] intervals, always "p(crash
//     within T)" for the run limit T; [PCrashWithin] for another T from runs of any length.
//   - Censored exponential: [Exponential] gives the rate MLE d/E and MTTC E/d with the exact
//     chi-square interval, or a one-sided bound when nothing crashed.
//   - [KaplanMeier] survival with Greenwood variance and a log-log pointwise interval.
//   - [CountTitles]: crashes per title with Wilson intervals.
//   - [Summarize]: all of the above for one configuration, with warnings.
//   - Two samples: [CompareRates] (rate ratio, conditional binomial exact interval),
//     [CompareSurvival] (log-rank), [Fisher] (exact test on crashed/clean runs).
//   - Sequential tests: [WaldBounds], [PoissonSPRT] (Poisson on exposure, with the exact
//     exposure at which H0 is accepted), [BernoulliSPRT] (per run). The two-variant
//     decision procedure of crashrig compare is in package sequential.
//   - The special functions these need: regularized incomplete gamma and beta and their
//     inverses, chi-square and normal quantiles.
//
// Every result that can mislead carries Warnings: sentences meant to be shown to the user
// as they are. Formulas and worked numbers are in notes/statistics.md; tests pin them.
package stats
