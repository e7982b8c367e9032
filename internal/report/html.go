package report

import (
	"html/template"
	"io"
	"strings"

	"github.com/crashrig/crashrig/internal/stats"
)

const (
	htmlExcerpts     = 20  // excerpts shown per title (the rest are listed by run id)
	htmlExcerptLines = 400 // lines shown per excerpt
)

// HTML writes the report as one self-contained page: inline CSS and SVG, no script and
// nothing fetched from anywhere. Console text is escaped by html/template.
func (m *Model) HTML(w io.Writer) error {
	v := m.build()
	d := htmlData{view: v, Survival: template.HTML(m.survivalSVG()), Histogram: template.HTML(m.histogramSVG()),
		ConfText: stats.Percent(m.conf())}
	if m.Campaign != nil {
		d.Campaign = m.Campaign.sections(m.conf())
	}
	if len(v.Legend) > 0 {
		d.Legend = &table{Head: []string{"variant", "description"}, Right: []bool{false, false}}
		for _, r := range v.Legend {
			d.Legend.Rows = append(d.Legend.Rows, []cell{{Text: r.Name}, {Text: r.Description}})
		}
	}
	for _, g := range v.Excerpts {
		hg := htmlGroup{excerptGroup: g, Count: len(g.Items)}
		for i, e := range g.Items {
			if i == htmlExcerpts {
				for _, r := range g.Items[i:] {
					hg.Rest = append(hg.Rest, r.RunID)
				}
				break
			}
			text, more := headLines(printable(e.Text), htmlExcerptLines)
			hg.Shown = append(hg.Shown, htmlExcerpt{Excerpt: e, Open: i == 0, Text: text, More: more})
		}
		d.Groups = append(d.Groups, hg)
	}
	return htmlPage.Execute(w, d)
}

type htmlData struct {
	*view
	Survival, Histogram template.HTML
	ConfText            string
	Legend              *table
	Groups              []htmlGroup
	Campaign            []campaignSection
}

type htmlGroup struct {
	excerptGroup
	Count int
	Shown []htmlExcerpt
	Rest  []int64
}

type htmlExcerpt struct {
	Excerpt
	Open bool
	Text string // the excerpt, cut to htmlExcerptLines
	More int    // lines cut
}

var htmlPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"dur":   dur,
	"inc":   func(i int) int { return i + 1 },
	"right": func(t table, j int) bool { return j < len(t.Right) && t.Right[j] },
	"empty": func(head []string) bool { return strings.Join(head, "") == "" },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2328; background: #fff; margin: 0; }
main { max-width: 1120px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d8dee4; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; font-weight: 600; }
.desc { margin: 0; font-size: 16px; }
.sub { margin: 2px 0 0; color: #59636e; font-size: 13px; }
.decision { margin: 16px 0; padding: 10px 14px; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; font-size: 16px; }
table { border-collapse: collapse; margin: 6px 0; }
.scroll { overflow-x: auto; max-width: 100%; }
th, td { padding: 4px 12px 4px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; border-bottom: 1px solid #8c959f; white-space: nowrap; }
td { border-bottom: 1px solid #eaeef2; }
td.r, th.r { text-align: right; }
table.kv td:first-child { color: #59636e; padding-right: 20px; }
td { font-variant-numeric: tabular-nums; white-space: nowrap; }
td:last-child, td code { white-space: normal; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
td code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
sup { line-height: 0; }
sup a { text-decoration: none; color: #0969da; font-size: 11px; margin-left: 1px; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 8px; }
figure { margin: 0; }
figcaption { font-size: 13px; color: #59636e; max-width: 580px; }
svg { max-width: 100%; height: auto; display: block; }
details { margin: 4px 0 8px; }
summary { cursor: pointer; color: #59636e; font-size: 13px; }
pre { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px; padding: 8px 10px; margin: 4px 0;
      overflow: auto; max-height: 26em; white-space: pre; font-size: 12px; line-height: 1.35; }
ol.notes li { margin: 3px 0; }
.muted { color: #59636e; font-size: 13px; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{with .Description}}<p class="desc">{{.}}</p>
{{end}}<p class="sub">{{.Sub}}</p>
{{with .Decision}}<div class="decision"><b>Decision:</b> {{.Text}}{{with .Confidence}} · {{.}}{{end}}{{with .RatioText}} · {{.}}{{end}}</div>
{{end}}{{range .Campaign}}<h2>{{.Title}}</h2>
{{with .Lines}}<ul class="campaign">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}{{with .Table}}{{template "table" .}}{{end}}
{{end}}{{with .Legend}}{{template "table" .}}{{end}}
<h2>Summary</h2>
{{if .Summary.Rows}}{{template "table" .Summary}}{{else}}<p>no runs to report</p>{{end}}
{{if .Runs}}<div class="plots">
<figure>{{.Survival}}<figcaption>Kaplan–Meier estimate of the share of runs that have not crashed yet, with its pointwise {{.ConfText}} band.</figcaption></figure>
<figure>{{.Histogram}}<figcaption>When the crashes happened: time from the reproducer's start to the crash.</figcaption></figure>
</div>
{{end}}{{if .Titles.Rows}}<h2>Crash titles</h2>
{{template "table" .Titles}}
{{end}}{{if .Notes}}<h2>Notes</h2>
<ol class="notes">
{{range $i, $n := .Notes}}<li id="note-{{$i | inc}}">{{$n}}</li>
{{end}}</ol>
{{end}}{{if .Groups}}<h2>Console excerpts</h2>
{{range .Groups}}<h3>{{with .Variant}}{{.}} · {{end}}<code>{{.Title}}</code>{{template "refs" .Notes}} — {{.Count}} crash{{if ne .Count 1}}es{{end}}</h3>
{{range .Shown}}<details{{if .Open}} open{{end}}><summary>run {{.RunID}} · crash after {{dur .TimeToCrash}}</summary>
<pre>{{if .Text}}{{.Text}}{{else}}(no console excerpt){{end}}</pre>{{if .More}}<p class="muted">… {{.More}} more lines: crashrig log {{.RunID}}</p>{{end}}
</details>
{{end}}{{with .Rest}}<p class="muted">{{len .}} more: runs{{range .}} {{.}}{{end}} (crashrig log RUN)</p>
{{end}}{{end}}{{end}}</main>
</body>
</html>
{{define "refs"}}{{if .}}<sup>{{range $i, $n := .}}{{if $i}},{{end}}<a href="#note-{{$n}}">{{$n}}</a>{{end}}</sup>{{end}}{{end}}
{{define "table"}}<div class="scroll"><table{{if empty .Head}} class="kv"{{end}}>
{{if not (empty .Head)}}<thead><tr>{{range $j, $h := .Head}}<th{{if right $ $j}} class="r"{{end}}>{{$h}}</th>{{end}}</tr></thead>
{{end}}<tbody>
{{range .Rows}}<tr>{{range $j, $c := .}}<td{{if right $ $j}} class="r"{{end}}>{{if $c.Code}}<code>{{$c.Text}}</code>{{else}}{{$c.Text}}{{end}}{{template "refs" $c.Notes}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>{{end}}`))
