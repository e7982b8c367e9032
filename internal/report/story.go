package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// A Story is a report of several stages that build on each other, such as crashrig story
// vdso: each stage has its outcome, its wall and VM time, facts, an optional comparison
// (a Model: its decision, table and survival curves) and blocks of preformatted evidence
// (disassembly, bisection steps). The HTML page is self-contained; the Markdown refers to
// the plots by file name (SVGs lists them, for the caller to write beside it).
type Story struct {
	Title     string
	Generated time.Time
	Summary   []string // the conclusion, one line each
	Stages    []StoryStage
}

// A StoryStage is one step of a story.
type StoryStage struct {
	Name    string // short, for file names and anchors: "footprint"
	Title   string
	Outcome string // one line: what the stage found
	// Expected reports whether the outcome is the one the story predicts; a stage that
	// disagrees is marked, never hidden.
	Expected bool
	Wall     time.Duration
	VM       float64 // VM seconds (0: none booted)
	Reused   bool    // the result came from an earlier invocation
	Facts    []string
	Model    *Model // a comparison (nil: none)
	Blocks   []Block
}

// A Block is a captioned piece of preformatted text.
type Block struct {
	Caption string
	Text    string
}

// svgName is the file the Markdown refers to for a stage's survival plot.
func (s StoryStage) svgName() string { return "story-" + s.Name + "-survival.svg" }

// SVGs returns the survival plot of every stage with a comparison, by the file name the
// Markdown uses for it.
func (s *Story) SVGs() map[string]string {
	out := map[string]string{}
	for _, st := range s.Stages {
		if st.Model != nil && st.Model.build().Runs > 0 {
			out[st.svgName()] = st.Model.survivalSVG()
		}
	}
	return out
}

func (s *Story) timing() table {
	t := table{Head: []string{"stage", "outcome", "as expected", "wall", "VM time"}, Right: []bool{false, false, false, true, true}, Flex: 1, Wrap: true}
	var wall time.Duration
	var vm float64
	for _, st := range s.Stages {
		exp := "yes"
		if !st.Expected {
			exp = "NO"
		}
		w := st.Wall.Round(time.Second).String()
		if st.Reused {
			w += " (earlier run)"
		}
		t.Rows = append(t.Rows, []cell{{Text: st.Title}, {Text: st.Outcome}, {Text: exp}, {Text: w}, {Text: vmText(st.VM)}})
		wall += st.Wall
		vm += st.VM
	}
	t.Rows = append(t.Rows, []cell{{Text: "total"}, {}, {}, {Text: wall.Round(time.Second).String()}, {Text: vmText(vm)}})
	return t
}

func vmText(s float64) string {
	if s == 0 {
		return "–"
	}
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

type storyHTMLStage struct {
	StoryStage
	View     *view
	Survival template.HTML
	Anchor   string
}

// HTML writes the story as one self-contained page.
func (s *Story) HTML(w io.Writer) error {
	d := struct {
		*Story
		Timing table
		Staged []storyHTMLStage
		When   string
	}{Story: s, Timing: s.timing(), When: s.Generated.Format("2006-01-02 15:04 MST")}
	for _, st := range s.Stages {
		hs := storyHTMLStage{StoryStage: st, Anchor: "stage-" + st.Name}
		if st.Model != nil {
			hs.View = st.Model.build()
			if hs.View.Runs > 0 {
				hs.Survival = template.HTML(st.Model.survivalSVG())
			}
		}
		d.Staged = append(d.Staged, hs)
	}
	return storyPage.Execute(w, d)
}

// Markdown writes the story; plots are images named as in SVGs.
func (s *Story) Markdown(w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# %s\n\n%s\n\n", mdEscape(s.Title), s.Generated.Format("2006-01-02 15:04 MST"))
	for _, l := range s.Summary {
		fmt.Fprintf(b, "- %s\n", mdEscape(l))
	}
	fmt.Fprintln(b)
	writeMDTable(b, s.timing(), len(s.Stages)+1)
	for _, st := range s.Stages {
		fmt.Fprintf(b, "## %s\n\n**%s**", mdEscape(st.Title), mdEscape(st.Outcome))
		if !st.Expected {
			fmt.Fprint(b, " (not what the story predicts)")
		}
		fmt.Fprint(b, "\n\n")
		for _, f := range st.Facts {
			fmt.Fprintf(b, "- %s\n", mdEscape(f))
		}
		if len(st.Facts) > 0 {
			fmt.Fprintln(b)
		}
		if st.Model != nil {
			v := st.Model.build()
			if d := v.Decision; d != nil {
				fmt.Fprintf(b, "**Decision:** %s\n\n", mdEscape(decisionLine(d)))
			}
			if len(v.Legend) > 0 {
				lt := table{Head: []string{"variant", "description"}, Right: []bool{false, false}}
				for _, r := range v.Legend {
					lt.Rows = append(lt.Rows, []cell{{Text: r.Name}, {Text: r.Description}})
				}
				writeMDTable(b, lt, len(lt.Rows))
			}
			if v.Runs > 0 {
				writeMDTable(b, v.Summary, len(v.Summary.Rows))
				fmt.Fprintf(b, "![survival curves of %s](%s)\n\n", mdEscape(st.Title), st.svgName())
			}
			if len(v.Titles.Rows) > 0 {
				writeMDTable(b, v.Titles, len(v.Titles.Rows))
			}
			if len(v.Notes) > 0 {
				for i, n := range v.Notes {
					fmt.Fprintf(b, "%d. %s\n", i+1, mdEscape(n))
				}
				fmt.Fprintln(b)
			}
		}
		for _, bl := range st.Blocks {
			fence := strings.Repeat("`", max(3, longestRun(bl.Text, '`')+1))
			fmt.Fprintf(b, "%s:\n\n%s\n%s\n%s\n\n", mdEscape(bl.Caption), fence, strings.TrimRight(bl.Text, "\n"), fence)
		}
	}
	return b.Flush()
}

var storyPage = template.Must(template.Must(htmlPage.Clone()).New("story").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + storyCSS + `</style>
</head>
<body><main>
<h1>{{.Title}}</h1>
<p class="sub">{{.When}}</p>
{{with .Summary}}<div class="decision"><ul>{{range .}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
<h2 id="stages">Stages</h2>
{{template "table" .Timing}}
{{range .Staged}}<section id="{{.Anchor}}">
<h2>{{.Title}}</h2>
<p class="outcome{{if not .Expected}} unexpected{{end}}"><b>{{.Outcome}}</b>{{if not .Expected}} — not what the story predicts{{end}}</p>
{{with .Facts}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with .View}}{{with .Decision}}<div class="decision"><b>Decision:</b> {{.Text}}{{with .Confidence}} · {{.}}{{end}}{{with .RatioText}} · {{.}}{{end}}</div>
{{end}}{{if .Summary.Rows}}{{template "table" .Summary}}{{end}}{{end}}
{{with .Survival}}<figure>{{.}}<figcaption>Kaplan–Meier estimate of the share of runs that have not crashed yet.</figcaption></figure>{{end}}
{{with .View}}{{if .Titles.Rows}}{{template "table" .Titles}}{{end}}{{with .Notes}}<ol class="notes">{{range .}}<li>{{.}}</li>{{end}}</ol>{{end}}{{end}}
{{range .Blocks}}<figure class="block"><figcaption>{{.Caption}}</figcaption><pre>{{.Text}}</pre></figure>
{{end}}</section>
{{end}}</main></body></html>
`))

const storyCSS = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fff}
main{max-width:1100px;margin:0 auto;padding:1em 1.5em}
h1{font-size:1.6em;margin:.3em 0}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
.sub{color:#666}.decision{background:#f3f6fb;border-left:4px solid #4a6fa5;padding:.4em .8em;margin:.8em 0}
.outcome.unexpected{color:#a00}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;margin:.6em 0}
td,th{border-bottom:1px solid #e3e3e3;padding:.2em .6em;text-align:left;vertical-align:top}
td.r,th.r{text-align:right}table.kv td:first-child{color:#555}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:13px;max-width:100%}
figure{margin:1em 0;max-width:100%}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}
code{font-size:.92em}.notes{color:#555;font-size:.9em}`
