// Package bisect finds the change that made a reproducer crash when the crash is flaky.
//
// A bisection is a sequence of steps. Each step runs one candidate (a commit, a set of
// config options, a set of objects built with extra flags) and decides, with the
// sequential machinery of package sequential, whether it is bad (crashes more than the
// known-good side), good (crashes less than the known-bad side, or no more than the good
// side), or inconclusive (the step's budget ran out first). A candidate that does not
// build or does not boot is skipped; a run that fails on the host is retried and never
// blamed.
//
// # The error budget
//
// The whole bisection has a target confidence (Config.Confidence, 95 % by default): the
// probability that the culprit it names is wrong is at most 1 − Confidence. With S =
// ⌈log₂ N⌉ + 1 steps expected for N candidates (one to check the endpoints, then halving),
// the first S steps each get (1 − Confidence)/(S + 1); the last share is spread over any
// further steps (skips, inconclusive steps), halving each time, so the shares never sum
// past the total. A wrong answer needs a wrong step, so by the union bound the total
// holds whatever the steps have in common. Inconclusive steps err never: they cost runs,
// not confidence.
//
// # One step
//
// A step pairs the candidate's i-th run with the i-th run of the good side and of the bad
// side, and feeds two comparisons (LogRank): candidate against good and candidate against
// bad. Runs of the two sides are kept for the whole bisection and reused by every step, so
// after the first steps a step spends only the candidate's runs. A candidate run stops
// once it has run twice as long as its bad partner took to crash: past that it adds little
// to either comparison, which is what makes "good" cheap when the bad side crashes
// quickly, while a bad candidate still crashes before its stop in most heats. The step decides at the first of:
//
//   - candidate vs good says the candidate crashes more: bad;
//   - candidate vs good says no difference of MinRatio, or the good side crashes more: good;
//   - candidate vs bad says the bad side crashes more: good;
//   - candidate vs bad says no difference, both always crash, or the candidate crashes
//     more: bad.
//
// Each comparison runs at α = β = share/2 per direction, so a step errs with probability
// about its share at most. A good side that crashes every run makes the step inconclusive:
// the endpoints are wrong. The simulation (Simulate) checks the error rates on flaky
// oracles with exponential, Weibull and crash-or-never laws and occasional build, boot and
// host failures; the Fixed10 policy runs syzkaller's fixed policy (10 runs per commit, one crash
// means bad) on the same oracles for comparison.
package bisect
