package stats

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func crash(t float64) Observation { return Observation{Crashed: true, Time: t} }
func clean(t float64) Observation { return Observation{Time: t, Limit: t} }
func titled(t float64, title string) Observation {
	return Observation{Crashed: true, Time: t, Title: title}
}

func TestKaplanMeier(t *testing.T) {
	// Crashes at 10, 20, 30 s; runs censored at 20 and 40 s. By hand:
	//   t=10: 5 at risk, 1 crash: Ŝ = 4/5 = .8;     Σ d/(n(n−d)) = 1/20       = .05
	//   t=20: 4 at risk, 1 crash: Ŝ = .8·3/4 = .6;  Σ += 1/12                 = .1333
	//   t=30: 2 at risk, 1 crash: Ŝ = .6·1/2 = .3;  Σ += 1/2                  = .6333
	//   t=40: 1 at risk, censored: Ŝ stays .3.
	// SE = Ŝ√Σ: .1789, .2191, .2387. Log-log: Ŝ^exp(±1.96·√Σ/|ln Ŝ|), e.g. at t=10
	// √.05/|ln .8| = 1.00208 → [.8^7.128, .8^(1/7.128)] = [.2038, .9692].
	obs := []Observation{crash(30), clean(40), crash(10), clean(20), crash(20)}
	want := []SurvivalPoint{
		{Time: 10, AtRisk: 5, Crashes: 1, Survival: 0.8, StdErr: 0.1788854, Lower: 0.2038093, Upper: 0.9691798},
		{Time: 20, AtRisk: 4, Crashes: 1, Censored: 1, Survival: 0.6, StdErr: 0.2190890, Lower: 0.1257302, Upper: 0.8817564},
		{Time: 30, AtRisk: 2, Crashes: 1, Survival: 0.3, StdErr: 0.2387467, Lower: 0.0123015, Upper: 0.7192180},
		{Time: 40, AtRisk: 1, Censored: 1, Survival: 0.3, StdErr: 0.2387467, Lower: 0.0123015, Upper: 0.7192180},
	}
	s := KaplanMeier(obs, 0.95)
	if diff := cmp.Diff(want, s.Points, approx); diff != "" {
		t.Errorf("KaplanMeier points mismatch (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"At before first crash", s.At(5), 1},
		{"At between steps", s.At(25), 0.6},
		{"median: first Ŝ ≤ .5", s.Quantile(0.5), 30},
		{"p90 never reached", s.Quantile(0.9), math.Inf(1)},
		{"cumulative hazard at 30", s.CumulativeHazard()[2], -math.Log(0.3)},
	} {
		if !close(tt.got, tt.want, 1e-9) {
			t.Errorf("%s = %g, want %g", tt.name, tt.got, tt.want)
		}
	}
}

func TestKaplanMeierEdges(t *testing.T) {
	tests := []struct {
		name string
		obs  []Observation
		want Survival
	}{{
		name: "all censored: flat at 1 with a degenerate interval",
		obs:  []Observation{clean(60), clean(60)},
		want: Survival{Conf: 0.95, Points: []SurvivalPoint{{Time: 60, AtRisk: 2, Censored: 2, Survival: 1, Lower: 1, Upper: 1}}},
	}, {
		name: "all crash at once: drops to 0",
		obs:  []Observation{crash(5), crash(5)},
		want: Survival{Conf: 0.95, Points: []SurvivalPoint{{Time: 5, AtRisk: 2, Crashes: 2}}},
	}, {
		name: "bad times are skipped",
		obs:  []Observation{crash(math.NaN()), crash(-1), clean(1)},
		want: Survival{Conf: 0.95, Points: []SurvivalPoint{{Time: 1, AtRisk: 1, Censored: 1, Survival: 1, Lower: 1, Upper: 1}},
			Warnings: []string{"2 observation(s) with a negative or missing time skipped"}},
	}, {
		name: "no observations",
		want: Survival{Conf: 0.95},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, KaplanMeier(tt.obs, 0.95), approx); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKaplanMeierProperties: the curve never rises, the interval always holds Ŝ, and with
// no censoring Ŝ(t) is the plain fraction of runs not yet crashed.
func TestKaplanMeierProperties(t *testing.T) {
	var obs []Observation
	for i := 1; i <= 50; i++ {
		obs = append(obs, crash(float64((i*37)%101)))
	}
	s := KaplanMeier(obs, 0.95)
	prev := 1.0
	for _, p := range s.Points {
		if p.Survival > prev || p.Lower > p.Survival || p.Upper < p.Survival {
			t.Errorf("t = %g: Ŝ %g after %g, interval [%g, %g]", p.Time, p.Survival, prev, p.Lower, p.Upper)
		}
		prev = p.Survival
		crashed := 0
		for _, o := range obs {
			if o.Time <= p.Time {
				crashed++
			}
		}
		if want := 1 - float64(crashed)/50; !close(p.Survival, want, 1e-12) && math.Abs(p.Survival-want) > 1e-12 {
			t.Errorf("t = %g: Ŝ = %g, want the empirical %g", p.Time, p.Survival, want)
		}
	}
}

// weibullRuns returns n runs whose crash times are the Weibull(k, scale) quantiles at
// (i − ½)/n, censored at limit: a deterministic stand-in for a random sample.
func weibullRuns(n int, k, scale, limit float64) []Observation {
	var obs []Observation
	for i := 1; i <= n; i++ {
		u := (float64(i) - 0.5) / float64(n)
		t := scale * math.Pow(-math.Log(1-u), 1/k)
		if t >= limit {
			obs = append(obs, Observation{Time: limit, Limit: limit})
			continue
		}
		obs = append(obs, Observation{Crashed: true, Time: t, Limit: limit})
	}
	return obs
}

func TestCheckHazard(t *testing.T) {
	tests := []struct {
		name      string
		obs       []Observation
		trend     Trend
		shape     float64 // expected fitted k, to 10 %
		warnStart string
	}{
		{"exponential", weibullRuns(40, 1, 60, 1e9), TrendConstant, 1, ""},
		{"exponential, censored at 60 s", weibullRuns(40, 1, 60, 60), TrendConstant, 1, ""},
		{"Weibull k=2: rising", weibullRuns(40, 2, 60, 1e9), TrendRising, 2, "hazard rises during a run"},
		{"Weibull k=2 censored at 90 s", weibullRuns(40, 2, 60, 90), TrendRising, 2, "hazard rises during a run"},
		{"Weibull k=0.5: falling", weibullRuns(40, 0.5, 60, 1e9), TrendFalling, 0.5, "hazard falls during a run"},
		{"too few crashes", []Observation{crash(1), crash(2), clean(60)}, TrendUnknown, math.NaN(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := CheckHazard(tt.obs)
			if h.Trend != tt.trend {
				t.Errorf("trend %v (k = %.3g, p = %.3g), want %v", h.Trend, h.Shape, h.P, tt.trend)
			}
			if !close(h.Shape, tt.shape, 0.1) {
				t.Errorf("shape %g, want about %g", h.Shape, tt.shape)
			}
			var first string
			if len(h.Warnings) > 0 {
				first = h.Warnings[0][:len(tt.warnStart)]
			}
			if first != tt.warnStart {
				t.Errorf("warnings %q, want one starting %q", h.Warnings, tt.warnStart)
			}
		})
	}
}
