package server

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestBoundHeadersCoverTheModels: every header either API model binds to
// an input member is one the verifier requires signed, so that a model
// update that binds a new header cannot open the replay hole again.
func TestBoundHeadersCoverTheModels(t *testing.T) {
	for _, name := range []string{"chime-sdk-identity-2021-04-20.json", "chime-sdk-messaging-2021-05-15.json"} {
		b, err := os.ReadFile("../api/models/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var model struct {
			Shapes map[string]struct {
				Members map[string]struct {
					Location     string `json:"location"`
					LocationName string `json:"locationName"`
				} `json:"members"`
			} `json:"shapes"`
		}
		if err := json.Unmarshal(b, &model); err != nil {
			t.Fatal(err)
		}
		for shape, s := range model.Shapes {
			for member, m := range s.Members {
				if m.Location == "header" && !slices.Contains(boundHeaders, strings.ToLower(m.LocationName)) {
					t.Errorf("%s: %s.%s is bound to the header %s, which boundHeaders does not list", name, shape, member, m.LocationName)
				}
			}
		}
	}
}
