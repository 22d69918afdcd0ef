package api

import "net/http"

// wantsCSV tells whether the request asks for format=csv; any other value
// than json or csv is a 400 naming the field.
func wantsCSV(w http.ResponseWriter, r *http.Request) (csvOut, ok bool) {
	switch r.URL.Query().Get("format") {
	case "", "json":
		return false, true
	case "csv":
		return true, true
	}
	writeError(w, http.StatusBadRequest, "invalid_request", "format: use json or csv", "format")
	return false, false
}
