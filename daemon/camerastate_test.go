package daemon

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/samlad/samlad/capture"
)

// The camera states the README names, in the camera section and in the MQTT
// topic table, are the ones the daemon publishes: one vocabulary.
func TestCameraStatesMatchTheREADME(t *testing.T) {
	published := map[string]bool{}
	for _, s := range []capture.State{capture.StateOpening, capture.StateOnline, capture.StateLost,
		capture.StateReconnecting, capture.StateEnded, capture.StateStopped} {
		for _, enabled := range []bool{true, false} {
			published[cameraState(s, enabled)] = true
		}
	}
	want := make([]string, 0, len(published))
	for s := range published {
		want = append(want, s)
	}
	sort.Strings(want)

	src, err := readDocs("../docs/mqtt.md", "../docs/cameras.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(src)
	quoted := regexp.MustCompile("`([a-z]+)`")
	states := func(text string) []string {
		var out []string
		for _, m := range quoted.FindAllStringSubmatch(text, -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
		sort.Strings(out)
		return out
	}
	// The MQTT table row of the status topic lists every state.
	row := regexp.MustCompile("(?m)^\\| `plant/line1/<cam>/status` .*states (.*)\\|$").FindStringSubmatch(readme)
	if row == nil {
		t.Fatal("docs: no status row in the MQTT topics table")
	}
	if got := states(row[1]); !slices.Equal(got, want) {
		t.Errorf("docs/mqtt.md table lists camera states %v; the daemon publishes %v", got, want)
	}
	// The camera section names a subset, and nothing the daemon never says.
	i := strings.Index(readme, "folder unmounted) is reported")
	if i < 0 {
		t.Fatal("docs: the camera section on lost sources is gone")
	}
	sentence := readme[i : i+strings.Index(readme[i:], ") and reopened")]
	for _, s := range states(sentence) {
		if !published[s] {
			t.Errorf("docs/cameras.md camera section names state %q, which the daemon never publishes (it publishes %v)", s, want)
		}
	}
}

// readDocs is the named documents, one after the other.
func readDocs(paths ...string) ([]byte, error) {
	var out []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}
