package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// errorBody is every error's JSON shape.
type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message, field string) {
	writeJSON(w, status, errorBody{Error: apiError{Code: code, Message: message, Field: field}})
}

// serverError logs a 5xx once, where it is handled, and answers it.
func serverError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "the server could not complete the request", "")
}
