package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
)

// JUnit XML, as Jenkins, GitLab and GitHub test reporters read it: one
// <testsuite> per report, one <testcase> per cell (or variant, outside a
// batch). A crash is a <failure> carrying its title and console excerpt; a
// cell with only host or boot failures is an <error>; a cell cut short by
// the deadline or skipped is <skipped>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	Timestamp string          `xml:"timestamp,attr"`
	Hostname  string          `xml:"hostname,attr"`
	Props     *junitProps     `xml:"properties,omitempty"`
	Cases     []junitTestCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Time      string         `xml:"time,attr"`
	Skipped   *junitSkipped  `xml:"skipped,omitempty"`
	Error     *junitProblem  `xml:"error,omitempty"`
	Failures  []junitProblem `xml:"failure,omitempty"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes the report as JUnit XML.
func (m *Model) JUnit(w io.Writer) error {
	name := "crashrig"
	if m.Campaign != nil {
		name = "crashrig batch " + m.Campaign.Plan
	}
	suite := junitSuite{Name: name, Timestamp: m.Generated.UTC().Format("2006-01-02T15:04:05")}
	suite.Hostname, _ = os.Hostname()
	if c := m.Campaign; c != nil {
		suite.Props = &junitProps{Props: []junitProp{{"plan", c.Plan}, {"plan_hash", c.PlanHash}, {"state", c.State}}}
	}
	total := 0.0
	for _, tc := range m.junitCases() {
		suite.Tests++
		switch {
		case tc.Skipped != nil:
			suite.Skipped++
		case tc.Error != nil:
			suite.Errors++
		case len(tc.Failures) > 0:
			suite.Failures++
		}
		var t float64
		fmt.Sscan(tc.Time, &t)
		total += t
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Time = fmt.Sprintf("%.3f", total)
	all := junitSuites{Name: name, Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped,
		Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitCases is one test case per cell (or variant).
func (m *Model) junitCases() []junitTestCase {
	byName := map[string]*Variant{}
	for i := range m.Variants {
		byName[m.Variants[i].Name] = &m.Variants[i]
	}
	class := "crashrig"
	if m.Campaign == nil {
		var out []junitTestCase
		for i := range m.Variants {
			v := &m.Variants[i]
			tc := junitTestCase{Name: v.Name, Classname: class, Time: fmt.Sprintf("%.3f", v.Summary.Exposure),
				SystemOut: v.Description}
			if tc.Name == "" {
				tc.Name = v.Description
			}
			tc.Failures = junitFailures(v)
			out = append(out, tc)
		}
		return out
	}
	class += "." + m.Campaign.Plan
	var out []junitTestCase
	for _, c := range m.Campaign.Cells {
		v := byName[c.ID]
		tc := junitTestCase{Name: c.ID, Classname: class, Time: "0.000",
			SystemOut: fmt.Sprintf("%s; %s; %d runs, %d crashed", c.Rule, c.State, c.Runs, c.Crashes)}
		if v != nil {
			tc.Time = fmt.Sprintf("%.3f", v.Summary.Exposure)
			tc.Failures = junitFailures(v)
		}
		if c.Decision != "" && c.Failed && len(tc.Failures) == 0 {
			tc.Failures = []junitProblem{{Message: c.Decision, Type: "comparison", Text: c.Decision}}
		}
		switch {
		case len(tc.Failures) > 0:
		case c.Runs == 0 && c.Other > 0:
			tc.Error = &junitProblem{Message: fmt.Sprintf("%d runs, none reached the reproducer's verdict (host or boot failures)", c.Other), Type: "infra"}
		case strings.HasPrefix(c.State, "skipped") || c.Runs == 0 || strings.HasPrefix(c.State, "cut short"):
			tc.Skipped = &junitSkipped{Message: c.State}
		}
		out = append(out, tc)
	}
	return out
}

// junitFailures is one failure per crashed run of v, titled, with its excerpt.
func junitFailures(v *Variant) []junitProblem {
	var out []junitProblem
	for _, e := range v.Crashes {
		out = append(out, junitProblem{Message: e.Title, Type: "crash",
			Text: fmt.Sprintf("run %d crashed after %.3fs: %s (crashrig log %d)\n\n%s", e.RunID, e.TimeToCrash, e.Title, e.RunID, e.Text)})
	}
	return out
}
