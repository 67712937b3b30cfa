// Package jobs runs thumbnail jobs on a bounded pool of goroutines with
// per-job timeouts, retries and graceful shutdown.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"
)

// Job is one unit of work.
type Job struct {
	ID       string
	Attempts int
	Run      func(ctx context.Context) error
}

// Result reports how a job ended.
type Result struct {
	JobID    string
	Err      error
	Attempts int
	Took     time.Duration
}

// Pool runs jobs on a fixed number of workers.
type Pool struct {
	workers    int
	timeout    time.Duration
	maxRetries int
	queue      chan *Job
	results    chan Result
	wg         sync.WaitGroup
	closed     atomic.Bool
	inFlight   atomic.Int64
	processed  atomic.Int64
}

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("jobs: pool is closed")

// NewPool starts `workers` goroutines reading from a queue of `depth` jobs.
func NewPool(workers, depth int, timeout time.Duration, maxRetries int) *Pool {
	if workers < 1 {
		workers = 1
	}
	p := &Pool{
		workers:    workers,
		timeout:    timeout,
		maxRetries: maxRetries,
		queue:      make(chan *Job, depth),
		results:    make(chan Result, depth),
	}
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go p.loop(i)
	}
	return p
}

// Results delivers one Result per submitted job.
func (p *Pool) Results() <-chan Result { return p.results }

// Submit queues a job; it blocks while the queue is full or ctx is done.
func (p *Pool) Submit(ctx context.Context, j *Job) error {
	if p.closed.Load() {
		return ErrClosed
	}
	select {
	case p.queue <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pool) loop(n int) {
	defer p.wg.Done()
	for j := range p.queue {
		p.inFlight.Add(1)
		start := time.Now()
		err := p.runWithRetries(j)
		p.inFlight.Add(-1)
		p.processed.Add(1)
		p.results <- Result{JobID: j.ID, Err: err, Attempts: j.Attempts, Took: time.Since(start)}
	}
	log.Printf("jobs: worker %d stopped", n)
}

func (p *Pool) runWithRetries(j *Job) error {
	var err error
	for attempt := 0; attempt <= p.maxRetries; attempt++ {
		j.Attempts++
		err = p.runOnce(j)
		if err == nil {
			return nil
		}
		var perm *PermanentError
		if errors.As(err, &perm) {
			return err
		}
		backoff := time.Duration(100*(1<<attempt)) * time.Millisecond
		jitter := time.Duration(rand.Int63n(int64(backoff / 2)))
		time.Sleep(backoff + jitter)
	}
	return fmt.Errorf("job %s: giving up after %d attempts: %w", j.ID, j.Attempts, err)
}

func (p *Pool) runOnce(j *Job) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = &PermanentError{Msg: fmt.Sprintf("panic: %v", r)}
		}
	}()
	return j.Run(ctx)
}

// Close stops accepting jobs and waits for the queued ones to finish, at
// most until ctx is done.
func (p *Pool) Close(ctx context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	close(p.queue)
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(p.results)
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs: %d jobs still running: %w", p.inFlight.Load(), ctx.Err())
	}
}

// Stats is a snapshot of the pool's counters.
type Stats struct {
	Workers   int
	Queued    int
	InFlight  int64
	Processed int64
}

// Stats returns the current counters.
func (p *Pool) Stats() Stats {
	return Stats{Workers: p.workers, Queued: len(p.queue), InFlight: p.inFlight.Load(),
		Processed: p.processed.Load()}
}

// PermanentError marks an error that retrying cannot fix.
type PermanentError struct{ Msg string }

func (e *PermanentError) Error() string { return e.Msg }
