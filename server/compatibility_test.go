package server

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// TestCompatibilityTable keeps docs/compatibility.md true: every operation
// of both models appears once per service with the route the model gives,
// and its status agrees with whether the server implements it.
func TestCompatibilityTable(t *testing.T) {
	srv, err := New(context.Background(), Config{DataDir: t.TempDir(), Root: RootCredentials{AccessKeyID: "AK", SecretAccessKey: "SK"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	implemented := map[string]bool{} // "Operation" → implemented (routes shared by both services count for both)
	routes := map[string]string{}    // "Operation" → "METHOD path[?query]"
	for _, r := range srv.Routes() {
		implemented[r.Operation] = r.Implemented
		uri := r.Path
		if r.Query != "" {
			uri += "?" + r.Query
		}
		routes[r.Operation] = r.Method + " " + uri
	}

	f, err := os.Open("../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type row struct{ route, status string }
	table := map[string]map[string]row{"Identity": {}, "Messaging": {}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| Identity |") && !strings.HasPrefix(line, "| Messaging |") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 4 {
			t.Errorf("malformed row: %s", line)
			continue
		}
		svc, op := strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1])
		route := strings.Trim(strings.TrimSpace(cells[2]), "`")
		status := strings.TrimSpace(cells[3])
		if _, dup := table[svc][op]; dup {
			t.Errorf("%s %s appears twice", svc, op)
		}
		table[svc][op] = row{route, status}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	check := func(svc string, names []string) {
		if len(table[svc]) != len(names) {
			t.Errorf("%s: the table has %d operations, the model %d", svc, len(table[svc]), len(names))
		}
		for _, op := range names {
			r, ok := table[svc][op]
			if !ok {
				t.Errorf("%s %s is missing from docs/compatibility.md", svc, op)
				continue
			}
			if r.route != routes[op] {
				t.Errorf("%s %s: the table says %q, the route table %q", svc, op, r.route, routes[op])
			}
			switch r.status {
			case "done", "partial":
				if !implemented[op] {
					t.Errorf("%s %s is marked %q but the server does not implement it", svc, op, r.status)
				}
			case "not yet":
				if implemented[op] {
					t.Errorf("%s %s is implemented but marked %q", svc, op, r.status)
				}
			default:
				t.Errorf("%s %s: unknown status %q", svc, op, r.status)
			}
		}
	}
	check("Identity", identityapi.OperationNames)
	check("Messaging", messagingapi.OperationNames)
}
