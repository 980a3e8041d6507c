package actuate

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

func TestEncodeReject(t *testing.T) {
	r := Reject{Seq: 17, PartID: "SN-9", Reject: true, Reason: "1 missing"}
	plain, err := encodeReject(r, RejectPlain)
	if err != nil || string(plain) != "17;SN-9;1" {
		t.Errorf("plain = %q, %v", plain, err)
	}
	j, err := encodeReject(r, RejectJSON)
	if err != nil || string(j) != `{"seq":17,"part_id":"SN-9","reject":true,"reason":"1 missing"}` {
		t.Errorf("json = %s, %v", j, err)
	}
	if p, _ := encodeReject(Reject{Seq: 3}, RejectPlain); string(p) != "3;;0" {
		t.Errorf("plain without part id = %q, want 3;;0", p)
	}
	if _, err := encodeReject(r, "csv"); err == nil || !strings.Contains(err.Error(), "actuate.reject_format") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestNormalizeNeverInventsAPass(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         Verdict
		verdict    string
		reject     bool
		correction bool
	}{
		{"pass", Verdict{Verdict: Pass, Score: 0.1, Threshold: 0.5}, Pass, false, false},
		{"fail without reject", Verdict{Verdict: Fail, Score: 0.9, Threshold: 0.5}, Fail, true, true},
		{"pass with NaN score", Verdict{Verdict: Pass, Score: math.NaN(), Threshold: 0.5}, Error, true, true},
		{"pass with Inf threshold", Verdict{Verdict: Pass, Score: 0.1, Threshold: math.Inf(1)}, Error, true, true},
		{"unknown kind", Verdict{Verdict: "ok", Score: 0.1}, Error, true, true},
		{"error, fail-safe pass", Verdict{Verdict: Error, Reason: "deadline"}, Error, false, false},
		{"pass with reject kept", Verdict{Verdict: Pass, Reject: true, Score: 0.1, Threshold: 0.5}, Pass, true, true},
	} {
		v := tc.in
		fixed := v.normalize()
		if v.Verdict != tc.verdict || v.Reject != tc.reject || (len(fixed) > 0) != tc.correction {
			t.Errorf("%s: got verdict %s reject %t corrections %v", tc.name, v.Verdict, v.Reject, fixed)
		}
	}
}

func TestVerdictJSON(t *testing.T) {
	v := Verdict{Camera: "cam1", Seq: 5, Verdict: Error, Reject: true, Score: math.NaN(), Threshold: 0.5,
		Findings: []Finding{{Kind: Structural, Box: Box{1, 2, 3, 4}, Area: 12, Score: math.Inf(1)}}}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("a NaN score must not stop a verdict: %v", err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["score"] != nil || m["threshold"] != 0.5 || m["findings"].([]any)[0].(map[string]any)["score"] != nil {
		t.Errorf("non-finite numbers not written as null: %s", b)
	}
	for _, key := range []string{"seq", "capture_ts", "publish_ts", "latency_ms", "verdict", "reject", "findings"} {
		if _, ok := m[key]; !ok {
			t.Errorf("verdict JSON lacks %q: %s", key, b)
		}
	}
	if _, ok := m["inspect_ts"]; ok {
		t.Errorf("inspect_ts written for a verdict never inspected: %s", b)
	}
	var back Verdict
	if err := json.Unmarshal(b, &back); err != nil || back.Findings[0].Box != (Box{1, 2, 3, 4}) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestTopicsAndNames(t *testing.T) {
	tp := Topics{Prefix: "plant/line1"}
	if cam, set, ok := tp.parseSet("plant/line1/cam2/threshold/set"); !ok || cam != "cam2" || set != "threshold" {
		t.Errorf("parseSet = %s %s %t", cam, set, ok)
	}
	for _, topic := range []string{"plant/line1/cam2/threshold/state", "plant/line2/cam2/threshold/set", "plant/line1/set"} {
		if _, _, ok := tp.parseSet(topic); ok {
			t.Errorf("parseSet(%s) accepted", topic)
		}
	}
	for _, p := range []string{"", "/a", "a/", "a/+/b", "a/#", "a//b", "$SYS"} {
		if CheckPrefix(p) == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if !ValidCamera("cam_1-a") || ValidCamera("Cam1") || ValidCamera("a/b") || ValidCamera("+") {
		t.Errorf("ValidCamera")
	}
}

// The verdict example in docs/mqtt.md is a Verdict: every field is one of
// the message's, and boxes have the one form {x,y,w,h}.
func TestDocsVerdictExample(t *testing.T) {
	b, err := os.ReadFile("../docs/mqtt.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "A verdict (`verdict` is")
	if !ok {
		t.Fatal("docs/mqtt.md has no verdict example")
	}
	_, block, _ := strings.Cut(sec, "```json\n")
	block, _, _ = strings.Cut(block, "```")
	dec := json.NewDecoder(strings.NewReader(block))
	dec.DisallowUnknownFields()
	var v Verdict
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("docs/mqtt.md verdict example: %v\n%s", err, block)
	}
	if v.Verdict != Fail || len(v.Findings) != 2 || v.Findings[0].Box != (Box{X: 412, Y: 96, W: 60, H: 58}) {
		t.Errorf("docs/mqtt.md verdict example read as %+v", v)
	}
}
