package approval

import (
	"context"
	"slices"
	"sync"
)

// Directory answers who is who (组织机构和角色): the embedding system
// implements it over its own user directory. The engine asks it when a
// user acts on a task assigned to a role or an organisation, and when it
// lists a user's tasks (待办). Answers are taken as they are at the time
// of the command and are not recorded: the event records who acted.
type Directory interface {
	// UsersOfRole returns the users who hold a role.
	UsersOfRole(ctx context.Context, role string) ([]string, error)
	// UsersOfOrg returns the users who belong to an organisation, named
	// by its 统一社会信用代码.
	UsersOfOrg(ctx context.Context, org string) ([]string, error)
	// HasRole reports whether a user holds a role.
	HasRole(ctx context.Context, user, role string) (bool, error)
	// InOrg reports whether a user belongs to an organisation.
	InOrg(ctx context.Context, user, org string) (bool, error)
}

// MemoryDirectory is a Directory held in memory, for tests, examples and
// small deployments. The zero value is empty and ready; it is safe for
// concurrent use.
type MemoryDirectory struct {
	mu    sync.RWMutex
	roles map[string][]string
	orgs  map[string][]string
}

// AddRole gives users a role.
func (d *MemoryDirectory) AddRole(role string, users ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.roles == nil {
		d.roles = map[string][]string{}
	}
	d.roles[role] = appendNew(d.roles[role], users)
}

// AddOrg puts users in an organisation.
func (d *MemoryDirectory) AddOrg(org string, users ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.orgs == nil {
		d.orgs = map[string][]string{}
	}
	d.orgs[org] = appendNew(d.orgs[org], users)
}

func appendNew(list, users []string) []string {
	for _, u := range users {
		if !slices.Contains(list, u) {
			list = append(list, u)
		}
	}
	return list
}

// UsersOfRole implements Directory.
func (d *MemoryDirectory) UsersOfRole(_ context.Context, role string) ([]string, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.roles[role]), nil
}

// UsersOfOrg implements Directory.
func (d *MemoryDirectory) UsersOfOrg(_ context.Context, org string) ([]string, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.orgs[org]), nil
}

// HasRole implements Directory.
func (d *MemoryDirectory) HasRole(_ context.Context, user, role string) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Contains(d.roles[role], user), nil
}

// InOrg implements Directory.
func (d *MemoryDirectory) InOrg(_ context.Context, user, org string) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Contains(d.orgs[org], user), nil
}

// holds reports whether user is, or is a member of, the assignee.
func holds(ctx context.Context, dir Directory, user string, a Assignee) (bool, error) {
	switch {
	case a.User != "":
		return a.User == user, nil
	case a.Role != "":
		return dir.HasRole(ctx, user, a.Role)
	case a.Org != "":
		return dir.InOrg(ctx, user, a.Org)
	}
	return false, nil
}
