package api

import (
	"regexp"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// Pattern is a model's pattern trait, compiled for Validator.Pattern.
//
// Every request checks its ARNs and tokens against the models' patterns,
// and Go's regexp spends about a microsecond per ARN doing it (2% of a
// SendChannelMessage's CPU, which checks two ARNs and a token). Most of
// the models' patterns are a sequence of character classes, each repeated
// a number of times, where no repetition can take a character that the
// next element needs: "arn:", then [a-z0-9-.]{1,63}, then ":", and so on.
// Such a sequence has one way to match, found by taking as many
// characters as each element allows, in one pass and without allocating.
// Pattern does that when the pattern has this shape, and leaves the others
// (alternatives, optional groups, a repetition the next element could
// take from) to regexp. TestPatternAgainstRegexp and FuzzPattern check that
// both always agree.
type Pattern struct {
	re *regexp.Regexp
	// seq is the pattern as a sequence of repeated classes; nil when
	// the pattern has another shape, and re decides.
	seq []repeatedClass
}

// repeatedClass is one element of a sequence: a character of class, from
// min to max times (max < 0: no bound).
type repeatedClass struct {
	class    runeClass
	min, max int
}

// runeClass is a set of runes: a bitmap for ASCII, sorted ranges above.
type runeClass struct {
	ascii [2]uint64
	wide  []rune // pairs lo, hi, sorted, all above utf8.RuneSelf-1
}

func (c *runeClass) has(r rune) bool {
	if r < utf8.RuneSelf {
		return c.ascii[r>>6]&(1<<(r&63)) != 0
	}
	for i := 0; i+1 < len(c.wide); i += 2 {
		if r < c.wide[i] {
			return false
		}
		if r <= c.wide[i+1] {
			return true
		}
	}
	return false
}

// disjoint reports whether no rune is in both c and d.
func (c *runeClass) disjoint(d *runeClass) bool {
	if c.ascii[0]&d.ascii[0] != 0 || c.ascii[1]&d.ascii[1] != 0 {
		return false
	}
	for i := 0; i+1 < len(c.wide); i += 2 {
		for j := 0; j+1 < len(d.wide); j += 2 {
			if c.wide[i] <= d.wide[j+1] && d.wide[j] <= c.wide[i+1] {
				return false
			}
		}
	}
	return true
}

// newRuneClass makes the class of ranges (pairs lo, hi, as regexp/syntax
// gives them).
func newRuneClass(ranges []rune) runeClass {
	var c runeClass
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
			c.ascii[r>>6] |= 1 << (r & 63)
		}
		if hi >= utf8.RuneSelf {
			c.wide = append(c.wide, max(lo, utf8.RuneSelf), hi)
		}
	}
	return c
}

// MustCompilePattern compiles an anchored RE2 pattern (internal/apigen
// writes them from the models' patterns), and panics if it does not
// compile.
func MustCompilePattern(expr string) *Pattern {
	p := &Pattern{re: regexp.MustCompile(expr)}
	if re, err := syntax.Parse(expr, syntax.Perl); err == nil {
		p.seq = sequenceOf(re)
	}
	return p
}

// MatchString reports whether s matches the whole pattern.
func (p *Pattern) MatchString(s string) bool {
	if p.seq == nil {
		return p.re.MatchString(s)
	}
	i := 0
	for k := range p.seq {
		e := &p.seq[k]
		n := 0
		for i < len(s) && (e.max < 0 || n < e.max) {
			// An invalid byte is utf8.RuneError, one byte wide, as
			// regexp reads it.
			r, size := rune(s[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
			if !e.class.has(r) {
				break
			}
			i += size
			n++
		}
		if n < e.min {
			return false
		}
	}
	return i == len(s)
}

// String is the pattern's text.
func (p *Pattern) String() string { return p.re.String() }

// sequenceOf returns re as a sequence that matches greedily, or nil when
// re, anchored at both ends, is not one: every element but the text's
// begin and end anchors (first and last) must be a literal, a class or
// "any character", repeated or not, and an element repeated a variable
// number of times must be followed by one that takes at least one
// character, none of which it could take itself. Then each element's
// count is forced: if a match took fewer characters of an element than
// the greedy pass, the next character would belong to both.
func sequenceOf(re *syntax.Regexp) []repeatedClass {
	var flat []*syntax.Regexp
	var walk func(*syntax.Regexp)
	walk = func(r *syntax.Regexp) {
		if r.Op == syntax.OpConcat {
			for _, s := range r.Sub {
				walk(s)
			}
			return
		}
		flat = append(flat, r)
	}
	walk(re)
	if len(flat) < 2 || flat[0].Op != syntax.OpBeginText || flat[len(flat)-1].Op != syntax.OpEndText {
		return nil
	}
	var seq []repeatedClass
	for _, r := range flat[1 : len(flat)-1] {
		if r.Op == syntax.OpLiteral {
			if r.Flags&syntax.FoldCase != 0 {
				return nil
			}
			for _, c := range r.Rune {
				seq = append(seq, repeatedClass{class: newRuneClass([]rune{c, c}), min: 1, max: 1})
			}
			continue
		}
		min, max, one := 1, 1, r
		switch r.Op {
		case syntax.OpStar:
			min, max, one = 0, -1, r.Sub[0]
		case syntax.OpPlus:
			min, max, one = 1, -1, r.Sub[0]
		case syntax.OpQuest:
			min, max, one = 0, 1, r.Sub[0]
		case syntax.OpRepeat:
			min, max, one = r.Min, r.Max, r.Sub[0]
		}
		class, ok := classOf(one)
		if !ok {
			return nil
		}
		seq = append(seq, repeatedClass{class: class, min: min, max: max})
	}
	for k := 0; k+1 < len(seq); k++ {
		if seq[k].min == seq[k].max {
			continue
		}
		next := &seq[k+1]
		if next.min < 1 || !seq[k].class.disjoint(&next.class) {
			return nil
		}
	}
	return seq
}

// classOf returns the runes r matches when r matches one rune.
func classOf(r *syntax.Regexp) (runeClass, bool) {
	switch r.Op {
	case syntax.OpCharClass:
		return newRuneClass(r.Rune), true
	case syntax.OpAnyChar:
		return newRuneClass([]rune{0, unicode.MaxRune}), true
	case syntax.OpAnyCharNotNL:
		return newRuneClass([]rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}), true
	case syntax.OpLiteral:
		if len(r.Rune) == 1 && r.Flags&syntax.FoldCase == 0 {
			return newRuneClass([]rune{r.Rune[0], r.Rune[0]}), true
		}
	}
	return runeClass{}, false
}
