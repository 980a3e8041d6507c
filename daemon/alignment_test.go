package daemon

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
)

// With a bank that aligns frames, each verdict says how its frame was
// moved; a blank frame (a covered lens) cannot be aligned, is inspected
// where it lies, says why, and is counted in the stats.
func TestVerdictsCarryTheAlignment(t *testing.T) {
	testFixture(t)
	dir := t.TempDir()
	cfg := testPipelineConfig()
	cfg.Pipeline.Register = config.On
	bank := filepath.Join(dir, "aligned.bank")
	if err := (&engines{}).Enroll(cfg, filepath.Join(fixture.dir, "good-a"), bank); err != nil {
		t.Fatal(err)
	}
	replay := filepath.Join(dir, "replay")
	os.MkdirAll(replay, 0o755)
	if err := copyFile(filepath.Join(fixture.single, "top.png"), filepath.Join(replay, "a.png")); err != nil {
		t.Fatal(err)
	}
	blank := image.NewRGBA(image.Rect(0, 0, testSize, testSize))
	for i := range blank.Pix {
		blank.Pix[i] = 128
	}
	f, err := os.Create(filepath.Join(replay, "b.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, blank); err != nil {
		t.Fatal(err)
	}
	f.Close()

	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	pipeline := fmt.Sprintf("[pipeline]\ninput_size = %d\nworkers = 1\nregister = \"on\"\n\n", testSize)
	path := testConfig{broker: b.URL, stateDir: dir, bank: bank, replay: replay, loop: true, pipeline: pipeline}.write(t, dir)
	startDaemon(t, path, nil)
	hmi := commander(t, b)
	for i := range 4 {
		send(t, hmi, "trigger", fmt.Sprintf("p-%d", i))
	}
	vs := verdicts(t, rec.Wait(prefix+"/cam1/verdict", 4, 60*time.Second))
	for i, v := range vs {
		if v.Verdict != actuate.Pass && v.Verdict != actuate.Fail {
			t.Fatalf("verdict %d is %q (%s)", i, v.Verdict, v.Reason)
		}
		a := v.Alignment
		switch blankFrame := i%2 == 1; {
		case a == nil:
			t.Errorf("verdict %d has no alignment", i)
		case blankFrame && (a.Failed == "" || v.Verdict != actuate.Fail):
			t.Errorf("blank frame %d: %s with alignment %+v; want a fail that says why it was not aligned", i, v.Verdict, a)
		case !blankFrame && a.Failed != "":
			t.Errorf("frame %d was not aligned: %s", i, a.Failed)
		}
	}
	k := len(rec.Messages(prefix + "/stats"))
	var st actuate.Stats
	if err := json.Unmarshal(rec.Wait(prefix+"/stats", k+1, 5*time.Second)[k].Payload, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Cameras) != 1 || st.Cameras[0].Unaligned != 2 {
		t.Errorf("stats %+v after two blank frames, want 2 unaligned", st.Cameras)
	}
}
