package main

import (
	"encoding/xml"
	"os"
	"strconv"
	"testing"
)

// The structure of the JUnit XML schema (Jenkins' junit-10.xsd, which
// GitLab, GitHub reporters and Jenkins read): testsuites > testsuite >
// properties?, testcase*; testcase > skipped?, error*, failure*,
// system-out*. Unknown elements or attributes make the check fail.
type jxSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    string     `xml:"tests,attr"`
	Failures string     `xml:"failures,attr"`
	Errors   string     `xml:"errors,attr"`
	Skipped  string     `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []jxSuite  `xml:"testsuite"`
	Any      []jxAny    `xml:",any"`
	AnyAttr  []xml.Attr `xml:",any,attr"`
}

type jxSuite struct {
	Name      string     `xml:"name,attr"`
	Tests     string     `xml:"tests,attr"`
	Failures  string     `xml:"failures,attr"`
	Errors    string     `xml:"errors,attr"`
	Skipped   string     `xml:"skipped,attr"`
	Time      string     `xml:"time,attr"`
	Timestamp string     `xml:"timestamp,attr"`
	Hostname  string     `xml:"hostname,attr"`
	Props     []jxProp   `xml:"properties>property"`
	Cases     []jxCase   `xml:"testcase"`
	Any       []jxAny    `xml:",any"`
	AnyAttr   []xml.Attr `xml:",any,attr"`
}

type jxProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type jxCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Time      string      `xml:"time,attr"`
	Skipped   []jxProblem `xml:"skipped"`
	Errors    []jxProblem `xml:"error"`
	Failures  []jxProblem `xml:"failure"`
	SystemOut []string    `xml:"system-out"`
	Any       []jxAny     `xml:",any"`
	AnyAttr   []xml.Attr  `xml:",any,attr"`
}

type jxProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type jxAny struct{ XMLName xml.Name }

// checkJUnit validates JUnit XML against the schema's structure and
// returns it: required attributes present, numbers numeric, counts that add
// up, and at most one skipped per test case.
func checkJUnit(t *testing.T, data []byte) jxSuites {
	t.Helper()
	var s jxSuites
	if err := xml.Unmarshal(data, &s); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	num := func(what, v string, float bool) int {
		if float {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				t.Errorf("%s %q is not a number", what, v)
			}
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Errorf("%s %q is not a count", what, v)
		}
		return n
	}
	if len(s.Any)+len(s.AnyAttr) > 0 || s.Name == "" {
		t.Errorf("testsuites: unknown parts %v %v or no name", s.Any, s.AnyAttr)
	}
	total := 0
	for _, su := range s.Suites {
		if len(su.Any)+len(su.AnyAttr) > 0 || su.Name == "" || su.Timestamp == "" {
			t.Errorf("testsuite %q: unknown parts %v %v, or no name or timestamp", su.Name, su.Any, su.AnyAttr)
		}
		var f, e, sk int
		for _, c := range su.Cases {
			if len(c.Any)+len(c.AnyAttr) > 0 || c.Name == "" || c.Classname == "" {
				t.Errorf("testcase %q: unknown parts %v %v, or no name or classname", c.Name, c.Any, c.AnyAttr)
			}
			num("testcase time", c.Time, true)
			if len(c.Skipped) > 1 {
				t.Errorf("testcase %q: %d skipped elements", c.Name, len(c.Skipped))
			}
			for _, p := range append(c.Failures, c.Errors...) {
				if p.Message == "" || p.Type == "" {
					t.Errorf("testcase %q: a failure or error without message or type", c.Name)
				}
			}
			switch {
			case len(c.Skipped) > 0:
				sk++
			case len(c.Errors) > 0:
				e++
			case len(c.Failures) > 0:
				f++
			}
		}
		if num("tests", su.Tests, false) != len(su.Cases) || num("failures", su.Failures, false) != f ||
			num("errors", su.Errors, false) != e || num("skipped", su.Skipped, false) != sk {
			t.Errorf("testsuite %q counts tests=%s failures=%s errors=%s skipped=%s; the cases say %d/%d/%d/%d",
				su.Name, su.Tests, su.Failures, su.Errors, su.Skipped, len(su.Cases), f, e, sk)
		}
		num("testsuite time", su.Time, true)
		total += len(su.Cases)
	}
	if num("testsuites tests", s.Tests, false) != total {
		t.Errorf("testsuites tests=%s, want %d", s.Tests, total)
	}
	return s
}

func checkJUnitFile(t *testing.T, path string, cases, failed int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := checkJUnit(t, b)
	if len(s.Suites) != 1 || len(s.Suites[0].Cases) != cases {
		t.Fatalf("%s: want one suite of %d cases:\n%s", path, cases, b)
	}
	n := 0
	for _, c := range s.Suites[0].Cases {
		if len(c.Failures) > 0 {
			n++
			if c.Failures[0].Type != "crash" || c.Failures[0].Message == "" || len(c.Failures[0].Text) < 100 {
				t.Errorf("case %s: failure %+v lacks the crash title or console excerpt", c.Name, c.Failures[0])
			}
		}
	}
	if n != failed {
		t.Errorf("%s: %d failed cases, want %d", path, n, failed)
	}
}
