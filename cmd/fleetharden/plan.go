package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/playbook"
	"github.com/fleetharden/fleetharden/playbooks"
	"github.com/fleetharden/fleetharden/runner"
)

// fleetPlan is a checked inventory selection with the playbook compiled for each host.
type fleetPlan struct {
	inventory *inventory.Inventory
	playbook  *playbook.Playbook
	jobs      []runner.Job
}

// loadPlan reads the inventory and the playbook and compiles the playbook for every
// selected host. Every error found is returned at once, before any host is contacted.
func loadPlan(inventoryPath, limit string, args []string) (*fleetPlan, error) {
	inv, err := inventory.Load(inventoryPath)
	if err != nil {
		return nil, badInput(err)
	}
	hosts, err := inv.Select(limit)
	if err != nil {
		return nil, badInput(err)
	}
	pb, err := loadPlaybook(args)
	if err != nil {
		return nil, badInput(err)
	}

	plan := &fleetPlan{inventory: inv, playbook: pb}
	var errs []error
	seen := map[string]bool{}
	for _, h := range hosts {
		p, err := pb.Compile(h.Name, h.Vars)
		if err != nil {
			errs = append(errs, uniqueErrors(err, seen)...)
			continue
		}
		plan.jobs = append(plan.jobs, runner.Job{Host: h, Plan: p})
	}
	if len(errs) > maxReportedErrors {
		more := fmt.Errorf("... and %d more errors", len(errs)-maxReportedErrors)
		errs = append(errs[:maxReportedErrors], more)
	}
	if len(errs) > 0 {
		return nil, badInput(errors.Join(errs...))
	}
	return plan, nil
}

// maxReportedErrors bounds the errors printed for a bad playbook, which on a large fleet
// can repeat for every host.
const maxReportedErrors = 20

// loadPlaybook reads the playbook named in args, or the built-in one.
func loadPlaybook(args []string) (*playbook.Playbook, error) {
	if len(args) == 1 {
		return playbook.Load(args[0])
	}
	return playbook.Parse("builtin:"+playbooks.DockerHardeningName, playbooks.DockerHardening)
}

// uniqueErrors flattens joined errors and drops those already seen, so a mistake that
// every host shares is reported once.
func uniqueErrors(err error, seen map[string]bool) []error {
	var list []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			list = append(list, uniqueErrors(e, seen)...)
		}
		return list
	}
	if seen[err.Error()] {
		return nil
	}
	seen[err.Error()] = true
	return []error{err}
}

// newRunID returns a sortable, unique run id such as 20261204T153012Z-3fa2c1.
func newRunID() string {
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%s", time.Now().UTC().Format("20060102T150405Z"), hex.EncodeToString(b[:]))
}
