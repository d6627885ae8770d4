package restjson

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/carillonhq/carillon/api"
)

// router finds the operation of a request from its method, its escaped path
// and the literal query the model puts in some request URIs
// ("?operation=batch-create", "?scope=…"). Paths carry percent-encoded ARNs
// ("arn%3Aaws%3Achime…%2Fchannel%2Fc1"), so matching runs on the escaped path
// split at '/', and each label is unescaped on its own: routing on the
// decoded path would split an ARN at its slashes.
type router struct {
	// byMethod indexes routes by method, then by number of segments.
	byMethod map[string]map[int][]*route
	all      []*route
}

type route struct {
	op       *api.Operation
	segments []segment
	// queryKey/queryValue: the model's literal query, or "".
	queryKey, queryValue string
}

type segment struct {
	literal string // when label == ""
	label   string
}

func newRouter(ops []api.Operation) (*router, error) {
	rt := &router{byMethod: map[string]map[int][]*route{}}
	seen := map[string]*route{}
	for i := range ops {
		op := &ops[i]
		r, err := parseRoute(op)
		if err != nil {
			return nil, err
		}
		key := op.Method + " " + op.Path + "?" + op.Query
		if prev, ok := seen[key]; ok {
			// Both services model the /tags operations identically;
			// one handler serves both. Keep the implemented one.
			if prev.op.Name != op.Name {
				return nil, fmt.Errorf("restjson: %s and %s share %s", prev.op.Name, op.Name, key)
			}
			if prev.op.Invoke == nil && op.Invoke != nil {
				prev.op = op
			}
			continue
		}
		seen[key] = r
		byLen := rt.byMethod[op.Method]
		if byLen == nil {
			byLen = map[int][]*route{}
			rt.byMethod[op.Method] = byLen
		}
		byLen[len(r.segments)] = append(byLen[len(r.segments)], r)
		rt.all = append(rt.all, r)
	}
	return rt, nil
}

func parseRoute(op *api.Operation) (*route, error) {
	if !strings.HasPrefix(op.Path, "/") {
		return nil, fmt.Errorf("restjson: %s: path %q does not start with /", op.Name, op.Path)
	}
	r := &route{op: op}
	for _, s := range strings.Split(op.Path[1:], "/") {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			r.segments = append(r.segments, segment{label: s[1 : len(s)-1]})
		} else {
			r.segments = append(r.segments, segment{literal: s})
		}
	}
	if len(r.segments) > maxSegments {
		return nil, fmt.Errorf("restjson: %s: path %q has more than %d segments", op.Name, op.Path, maxSegments)
	}
	if op.Query != "" {
		k, v, _ := strings.Cut(op.Query, "=")
		r.queryKey, r.queryValue = k, v
	}
	return r, nil
}

// match is a routed request: its operation and its unescaped labels.
type match struct {
	op     *api.Operation
	labels []labelValue
}

type labelValue struct{ name, value string }

// queryGetter gives the first value of a query parameter.
type queryGetter interface {
	get(name string) (string, bool)
}

// valuesQuery is a parsed query as a queryGetter.
type valuesQuery url.Values

func (q valuesQuery) get(name string) (string, bool) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// find routes a request. It returns nil when no operation matches, and an
// error when a label is not validly escaped.
func (rt *router) find(method, escapedPath string, query url.Values) (*match, error) {
	r, labels, err := rt.route(method, escapedPath, valuesQuery(query), nil)
	if r == nil || err != nil {
		return nil, err
	}
	return &match{op: r.op, labels: labels}, nil
}

// maxSegments is the most path segments a route of the models has, with
// room to spare; a longer path matches nothing.
const maxSegments = 16

// route is find without allocating: the labels are appended to labels.
func (rt *router) route(method, escapedPath string, query queryGetter, labels []labelValue) (*route, []labelValue, error) {
	if !strings.HasPrefix(escapedPath, "/") {
		return nil, labels, nil
	}
	var buf [maxSegments]string
	parts := buf[:0]
	for rest := escapedPath[1:]; ; {
		if len(parts) == maxSegments {
			return nil, labels, nil
		}
		seg, tail, more := strings.Cut(rest, "/")
		parts = append(parts, seg)
		if !more {
			break
		}
		rest = tail
	}
	candidates := rt.byMethod[method][len(parts)]
	var best *route
	bestScore := -1
	for _, r := range candidates {
		score, ok := r.score(parts, query)
		if ok && score > bestScore {
			best, bestScore = r, score
		}
	}
	if best == nil {
		return nil, labels, nil
	}
	for i, s := range best.segments {
		if s.label == "" {
			continue
		}
		v, err := url.PathUnescape(parts[i])
		if err != nil {
			return nil, labels, serializationError("Invalid percent-encoding in path segment for " + s.label)
		}
		labels = append(labels, labelValue{s.label, v})
	}
	return best, labels, nil
}

// score reports whether r matches and how specifically: a matched literal
// query outranks none, and literal segments outrank labels.
func (r *route) score(parts []string, query queryGetter) (int, bool) {
	score := 0
	for i, s := range r.segments {
		switch {
		case s.label != "":
			if parts[i] == "" {
				return 0, false
			}
		case s.literal != parts[i]:
			return 0, false
		default:
			score++
		}
	}
	if r.queryKey != "" {
		v, ok := query.get(r.queryKey)
		if !ok || v != r.queryValue {
			return 0, false
		}
		score += 1000
	}
	return score, true
}
