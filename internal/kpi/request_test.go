package kpi

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestFromValues_UnknownSegmentIsAnError(t *testing.T) {
	for _, seg := range []string{"rfm:vip", "satisfaction:happy", "mood:happy", "rfm"} {
		_, err := FromValues("w", url.Values{"segment": {seg}})
		var reqErr *RequestError
		if !errors.As(err, &reqErr) || reqErr.Field != "segment" {
			t.Errorf("segment=%s: got %v, want an error on segment", seg, err)
		}
	}
	_, err := FromValues("w", url.Values{"segment": {"rfm:vip"}})
	if err == nil || !strings.Contains(err.Error(), "champions") {
		t.Errorf("segment=rfm:vip: %v, want the error to list the rfm segments", err)
	}
	for family, names := range SegmentNames {
		for _, n := range names {
			if _, err := FromValues("w", url.Values{"segment": {family + ":" + n}}); err != nil {
				t.Errorf("segment=%s:%s: %v", family, n, err)
			}
		}
	}
}

func TestFromValues_CompareBoth(t *testing.T) {
	for _, v := range []string{"both", "previous,last_year", "both,previous", "last_year,both"} {
		r, err := FromValues("w", url.Values{"compare": {v}})
		if err != nil {
			t.Fatalf("compare=%s: %v", v, err)
		}
		got := map[string]bool{}
		for _, c := range r.Compare {
			got[c] = true
		}
		if want := map[string]bool{"previous": true, "last_year": true}; !reflect.DeepEqual(got, want) || len(r.Compare) != 2 {
			t.Errorf("compare=%s: %v, want previous and last_year once each", v, r.Compare)
		}
	}
	if _, err := FromValues("w", url.Values{"compare": {"yesterday"}}); err == nil {
		t.Error("compare=yesterday accepted")
	}
}
