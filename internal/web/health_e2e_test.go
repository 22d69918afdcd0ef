package web_test

// deref is a nullable text of the API, "" for null, as a cell's data-value
// holds it.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
