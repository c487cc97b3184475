package antientropy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	h := time.Hour
	for _, tc := range []struct {
		in   string
		want Window
		str  string
	}{
		{"", Window{}, "always"},
		{"always", Window{}, "always"},
		{"01:00-05:00", Window{1 * h, 5 * h}, "01:00-05:00"},
		{"22:00-04:00", Window{22 * h, 4 * h}, "22:00-04:00"},
		{"00:00-23:59", Window{0, 23*h + 59*time.Minute}, "00:00-23:59"},
		{"23:30-00:00", Window{23*h + 30*time.Minute, 0}, "23:30-00:00"},
	} {
		w, err := ParseWindow(tc.in)
		if err != nil || w != tc.want || w.String() != tc.str {
			t.Errorf("ParseWindow(%q) = %v (%q), %v; want %v (%q)", tc.in, w, w.String(), err, tc.want, tc.str)
		}
		if back, err := ParseWindow(w.String()); err != nil || back != w {
			t.Errorf("%q does not round-trip: %v, %v", w.String(), back, err)
		}
	}
	for _, in := range []string{
		"never", "01:00", "01:00-", "-05:00", "1:00-05:00", "01:00-05:00-06:00",
		"24:00-01:00", "01:60-02:00", "01:00-01:00", "00:00-00:00", "+1:00-02:00",
		"01-00-02:00", " 01:00-02:00", "01:00 - 02:00", "ab:cd-01:00",
	} {
		_, err := ParseWindow(in)
		if !errors.Is(err, ErrBadWindow) || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("ParseWindow(%q): err = %v, want ErrBadWindow quoting the input", in, err)
		}
	}
}

func TestWindowContainsAndNext(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	day := func(w string) Window {
		p, err := ParseWindow(w)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		w, at    string
		contains bool
		next     string
	}{
		{"always", "2024-03-01T12:34:56Z", true, "2024-03-01T12:34:56Z"},
		{"01:00-05:00", "2024-03-01T01:00:00Z", true, "2024-03-01T01:00:00Z"},
		{"01:00-05:00", "2024-03-01T04:59:59Z", true, "2024-03-01T04:59:59Z"},
		{"01:00-05:00", "2024-03-01T05:00:00Z", false, "2024-03-02T01:00:00Z"},
		{"01:00-05:00", "2024-03-01T00:59:00Z", false, "2024-03-01T01:00:00Z"},
		{"22:00-04:00", "2024-03-01T23:00:00Z", true, "2024-03-01T23:00:00Z"},
		{"22:00-04:00", "2024-03-01T03:59:00Z", true, "2024-03-01T03:59:00Z"},
		{"22:00-04:00", "2024-03-01T04:00:00Z", false, "2024-03-01T22:00:00Z"},
		{"22:00-04:00", "2024-12-31T21:00:00Z", false, "2024-12-31T22:00:00Z"},
		{"00:00-01:00", "2024-12-31T23:00:00Z", false, "2025-01-01T00:00:00Z"},
		// Local time is read in UTC: 03:00+05:00 is 22:00Z the day before.
		{"22:00-04:00", "2024-03-01T03:00:00+05:00", true, "2024-03-01T03:00:00+05:00"},
		{"01:00-05:00", "2024-03-01T03:00:00-05:00", false, "2024-03-02T01:00:00Z"},
	} {
		w, tm := day(tc.w), at(tc.at)
		if got := w.Contains(tm); got != tc.contains {
			t.Errorf("%v.Contains(%s) = %v", w, tc.at, got)
		}
		if got := w.Next(tm); !got.Equal(at(tc.next)) {
			t.Errorf("%v.Next(%s) = %v, want %s", w, tc.at, got, tc.next)
		}
	}
}

func TestWindowText(t *testing.T) {
	var v struct{ W Window }
	if err := json.Unmarshal([]byte(`{"W":"22:15-04:00"}`), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"W":"22:15-04:00"}` {
		t.Fatalf("%s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"W":"bad"}`), &v); !errors.Is(err, ErrBadWindow) {
		t.Fatalf("err = %v", err)
	}
}
