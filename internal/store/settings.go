package store

import (
	"context"
	"errors"
)

// SettingsOf returns the settings of workspace name as get reads them
// (Store.Workspace, or a cache of it). A workspace not stored yet has the
// settings of a new one, NewWorkspace's, and found is false: reading a
// workspace never stores it. Any other error is returned as it is.
func SettingsOf(ctx context.Context, get func(context.Context, string) (Workspace, error), name string) (ws Workspace, found bool, err error) {
	ws, err = get(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return NewWorkspace(name), false, nil
	}
	return ws, err == nil, err
}
