package api_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/carillonhq/carillon/api"
)

// modelPatterns are the patterns the generated packages compile, as
// internal/apigen writes them, and whether each is a sequence that
// Pattern matches without regexp.
var modelPatterns = []struct {
	expr string
	fast bool
}{
	{`^(?s:arn:[a-z0-9-\.]{1,63}:[a-z0-9-\.]{0,63}:[a-z0-9-\.]{0,63}:[a-z0-9-\.]{0,63}:[^/].{0,})$`, true},
	{`^(?s:[-_a-zA-Z0-9]*)$`, true},
	{`^(?s:[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{0085}\x{00A0}-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}]*)$`, true},
	{`^(?s:arn:aws:lex:[a-z]{2}-[a-z]+-\d{1}:\d{12}:bot-alias/[A-Z0-9]{10}/[A-Z0-9]{10})$`, true},
	{`^(?s:.*\S.*)$`, false},
	{`^(?s:[A-Za-z0-9]([A-Za-z0-9\:\-\_\.\@]{0,62}[A-Za-z0-9])?)$`, false},
	{`^(?s:^([A-Za-z]_?)+$)$`, false},
	{`^(?s:arn:aws:lambda:[a-z]{2}-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9\-_\.]+(:(\$LATEST|[a-zA-Z0-9\-_]+))?)$`, false},
	// Shapes the sequence must refuse: a repetition the next element
	// could take from, or that nothing follows but an optional element.
	{`^(?s:[a-z]*[a-c]x)$`, false},
	{`^(?s:a*b?)$`, false},
	{`^(?s:a{2,3}:b+)$`, true},
}

// TestModelPatternsListed: every pattern the generated packages compile
// is in modelPatterns, so that the tests below check it.
func TestModelPatternsListed(t *testing.T) {
	listed := map[string]bool{}
	for _, mp := range modelPatterns {
		listed[mp.expr] = true
	}
	files, err := filepath.Glob("*/*_gen.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("generated files: %v, %v", files, err)
	}
	compile := regexp.MustCompile(`api\.MustCompilePattern\(("(?:[^"\\]|\\.)*")\)`)
	found := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range compile.FindAllSubmatch(src, -1) {
			expr, err := strconv.Unquote(string(m[1]))
			if err != nil {
				t.Fatalf("%s: %s: %v", f, m[1], err)
			}
			found++
			if !listed[expr] {
				t.Errorf("%s compiles %s, which modelPatterns does not list", f, expr)
			}
		}
	}
	if found == 0 {
		t.Error("no pattern found in the generated files")
	}
}

// samples are strings near the patterns' edges: valid ARNs and tokens,
// and their cuts, mutations, invalid UTF-8 and characters outside ASCII.
func samples(r *rand.Rand) []string {
	seeds := []string{
		"arn:aws:chime:us-east-1:111122223333:app-instance/8f2a6a4e/channel/5c0e9f7a",
		"arn:aws:chime:us-east-1:111122223333:app-instance/8f2a6a4e/user/alice",
		"arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDEFGHIJ/0123456789",
		"arn:aws:lambda:us-east-1:123456789012:function:name:$LATEST",
		"0d3c4f1e-7a2b-4c5d-9e8f-a1b2c3d4e5f6", "a_b-c", "", "aa:b", "aaa:bbb", "x",
		"arn::::x", "arn:a:::/", "arn:" + strings.Repeat("a", 64) + ":b:c:d:e",
		"héllo\nworld", "\xff\xfe", "\u2028", "\U0001F600 ok", "a\x00b",
	}
	alphabet := []string{"a", "z", "A", "Z", "0", "9", "-", "_", ".", ":", "/", "@", "$", " ", "\n", "\t",
		"é", "\xff", "\ufffd", "\U0001F600", "\x00", "\x7f", "\u0085", "\ud7ff"}
	out := append([]string(nil), seeds...)
	for range 20000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			s := seeds[r.IntN(len(seeds))]
			i, j := r.IntN(len(s)+1), r.IntN(len(s)+1)
			if i > j {
				i, j = j, i
			}
			b.WriteString(s[:i])
			for range r.IntN(3) {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			b.WriteString(s[j:])
		} else {
			for range r.IntN(80) {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
		}
		out = append(out, b.String())
	}
	return out
}

// TestPatternAgainstRegexp: Pattern answers as regexp does for every
// pattern of the models, and matches the sequences without it.
func TestPatternAgainstRegexp(t *testing.T) {
	in := samples(rand.New(rand.NewPCG(1, 2)))
	for _, mp := range modelPatterns {
		p, re := api.MustCompilePattern(mp.expr), regexp.MustCompile(mp.expr)
		if got := api.PatternIsSequence(p); got != mp.fast {
			t.Errorf("%s: matched as a sequence %v, want %v", mp.expr, got, mp.fast)
		}
		if p.String() != mp.expr {
			t.Errorf("String() = %q, want %q", p.String(), mp.expr)
		}
		matched := 0
		for _, s := range in {
			want := re.MatchString(s)
			if got := p.MatchString(s); got != want {
				t.Errorf("%s: MatchString(%q) = %v, regexp says %v", mp.expr, s, got, want)
			}
			if want {
				matched++
			}
		}
		if matched == 0 {
			t.Errorf("%s: no sample matched: the samples test nothing", mp.expr)
		}
	}
}

// FuzzPattern: Pattern and regexp agree on any string.
func FuzzPattern(f *testing.F) {
	for _, s := range samples(rand.New(rand.NewPCG(3, 4)))[:200] {
		f.Add(s)
	}
	pats := make([]*api.Pattern, len(modelPatterns))
	res := make([]*regexp.Regexp, len(modelPatterns))
	for i, mp := range modelPatterns {
		pats[i], res[i] = api.MustCompilePattern(mp.expr), regexp.MustCompile(mp.expr)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i := range pats {
			if got, want := pats[i].MatchString(s), res[i].MatchString(s); got != want {
				t.Errorf("%s: MatchString(%q) = %v, regexp says %v", res[i], s, got, want)
			}
		}
	})
}

func BenchmarkPatternARN(b *testing.B) {
	arn := "arn:aws:chime:us-east-1:111122223333:app-instance/8f2a6a4e-2f7c-4a51-9d4e-3c1b7e0a9d21/channel/5c0e9f7a-3d2b-4e61-8a9f-0b7c6d5e4f3a"
	expr := modelPatterns[0].expr
	b.Run("regexp", func(b *testing.B) {
		re := regexp.MustCompile(expr)
		for b.Loop() {
			if !re.MatchString(arn) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("pattern", func(b *testing.B) {
		p := api.MustCompilePattern(expr)
		for b.Loop() {
			if !p.MatchString(arn) {
				b.Fatal("no match")
			}
		}
	})
}
