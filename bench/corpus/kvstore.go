// Package kvstore is an append-only, log-structured key/value store used by
// the edge agents to keep their configuration and counters across restarts.
//
// Every Put or Delete appends a record to the active segment file:
//
//	crc32(4) | timestamp(8) | keyLen(4) | valLen(4) | key | value
//
// An in-memory index maps each key to the segment and offset of its latest
// record. Compact rewrites the live records into a new segment.
package kvstore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	headerSize     = 20
	maxKeySize     = 1 << 10
	maxValueSize   = 1 << 20
	tombstone      = ^uint32(0)
	segmentPrefix  = "seg-"
	segmentSuffix  = ".log"
	defaultMaxSize = 64 << 20
)

var (
	// ErrNotFound is returned by Get for a missing or deleted key.
	ErrNotFound = errors.New("kvstore: key not found")
	// ErrCorrupt is returned when a record fails its checksum.
	ErrCorrupt = errors.New("kvstore: corrupt record")
	// ErrTooLarge is returned for keys or values over the limits.
	ErrTooLarge = errors.New("kvstore: key or value too large")
)

type location struct {
	segment int
	offset  int64
	size    uint32
	ts      int64
}

// Store is safe for concurrent use.
type Store struct {
	mu          sync.RWMutex
	dir         string
	index       map[string]location
	segments    map[int]*os.File
	active      int
	activeSize  int64
	maxSize     int64
	writer      *bufio.Writer
	syncOnWrite bool
}

// Options configure Open.
type Options struct {
	MaxSegmentSize int64
	SyncOnWrite    bool
}

// Open opens (or creates) a store in dir and rebuilds the index.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Store{
		dir:         dir,
		index:       make(map[string]location),
		segments:    make(map[int]*os.File),
		maxSize:     opts.MaxSegmentSize,
		syncOnWrite: opts.SyncOnWrite,
	}
	if s.maxSize <= 0 {
		s.maxSize = defaultMaxSize
	}
	ids, err := s.segmentIDs()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := s.load(id); err != nil {
			s.Close()
			return nil, fmt.Errorf("kvstore: loading segment %d: %w", id, err)
		}
	}
	next := 1
	if len(ids) > 0 {
		next = ids[len(ids)-1]
	}
	if err := s.openActive(next); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) segmentPath(id int) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%08d%s", segmentPrefix, id, segmentSuffix))
}

func (s *Store) segmentIDs() ([]int, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, segmentPrefix) || !strings.HasSuffix(name, segmentSuffix) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, segmentPrefix), segmentSuffix))
		if err != nil {
			continue
		}
		ids = append(ids, n)
	}
	sort.Ints(ids)
	return ids, nil
}

// load scans one segment and applies its records to the index. A truncated
// last record (a crash during a write) ends the scan without an error.
func (s *Store) load(id int) error {
	f, err := os.Open(s.segmentPath(id))
	if err != nil {
		return err
	}
	s.segments[id] = f
	r := bufio.NewReader(f)
	var off int64
	hdr := make([]byte, headerSize)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil
			}
			return err
		}
		sum := binary.LittleEndian.Uint32(hdr[0:4])
		ts := int64(binary.LittleEndian.Uint64(hdr[4:12]))
		klen := binary.LittleEndian.Uint32(hdr[12:16])
		vlen := binary.LittleEndian.Uint32(hdr[16:20])
		bodyLen := klen
		if vlen != tombstone {
			bodyLen += vlen
		}
		body := make([]byte, bodyLen)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil
		}
		if crc32.ChecksumIEEE(append(hdr[4:], body...)) != sum {
			return fmt.Errorf("%w at offset %d", ErrCorrupt, off)
		}
		key := string(body[:klen])
		size := uint32(headerSize) + bodyLen
		if vlen == tombstone {
			delete(s.index, key)
		} else if cur, ok := s.index[key]; !ok || cur.ts <= ts {
			s.index[key] = location{segment: id, offset: off, size: size, ts: ts}
		}
		off += int64(size)
	}
}

func (s *Store) openActive(id int) error {
	f, err := os.OpenFile(s.segmentPath(id), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if old, ok := s.segments[id]; ok && old != f {
		old.Close()
	}
	s.segments[id] = f
	s.active = id
	s.activeSize = st.Size()
	s.writer = bufio.NewWriterSize(f, 64<<10)
	return nil
}

func encode(key string, value []byte, del bool, ts int64) []byte {
	vlen := uint32(len(value))
	if del {
		vlen = tombstone
		value = nil
	}
	buf := make([]byte, headerSize+len(key)+len(value))
	binary.LittleEndian.PutUint64(buf[4:12], uint64(ts))
	binary.LittleEndian.PutUint32(buf[12:16], uint32(len(key)))
	binary.LittleEndian.PutUint32(buf[16:20], vlen)
	copy(buf[headerSize:], key)
	copy(buf[headerSize+len(key):], value)
	binary.LittleEndian.PutUint32(buf[0:4], crc32.ChecksumIEEE(buf[4:]))
	return buf
}

func (s *Store) append(rec []byte) (int64, error) {
	if s.activeSize+int64(len(rec)) > s.maxSize {
		if err := s.writer.Flush(); err != nil {
			return 0, err
		}
		if err := s.openActive(s.active + 1); err != nil {
			return 0, err
		}
	}
	off := s.activeSize
	if _, err := s.writer.Write(rec); err != nil {
		return 0, err
	}
	s.activeSize += int64(len(rec))
	if s.syncOnWrite {
		if err := s.writer.Flush(); err != nil {
			return 0, err
		}
		if err := s.segments[s.active].Sync(); err != nil {
			return 0, err
		}
	}
	return off, nil
}

// Put stores value under key.
func (s *Store) Put(key string, value []byte) error {
	if len(key) == 0 || len(key) > maxKeySize || len(value) > maxValueSize {
		return ErrTooLarge
	}
	ts := time.Now().UnixNano()
	rec := encode(key, value, false, ts)
	s.mu.Lock()
	defer s.mu.Unlock()
	off, err := s.append(rec)
	if err != nil {
		return err
	}
	s.index[key] = location{segment: s.active, offset: off, size: uint32(len(rec)), ts: ts}
	return nil
}

// Delete removes key; deleting a missing key is not an error.
func (s *Store) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.index[key]; !ok {
		return nil
	}
	if _, err := s.append(encode(key, nil, true, time.Now().UnixNano())); err != nil {
		return err
	}
	delete(s.index, key)
	return nil
}

// Get returns the value of key.
func (s *Store) Get(key string) ([]byte, error) {
	s.mu.RLock()
	loc, ok := s.index[key]
	if !ok {
		s.mu.RUnlock()
		return nil, ErrNotFound
	}
	if loc.segment == s.active {
		if err := s.writer.Flush(); err != nil {
			s.mu.RUnlock()
			return nil, err
		}
	}
	f := s.segments[loc.segment]
	s.mu.RUnlock()
	buf := make([]byte, loc.size)
	if _, err := f.ReadAt(buf, loc.offset); err != nil {
		return nil, err
	}
	if crc32.ChecksumIEEE(buf[4:]) != binary.LittleEndian.Uint32(buf[0:4]) {
		return nil, ErrCorrupt
	}
	klen := binary.LittleEndian.Uint32(buf[12:16])
	return buf[headerSize+klen:], nil
}

// Keys returns every live key with the given prefix, sorted.
func (s *Store) Keys(prefix string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for k := range s.index {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Compact rewrites every live record into a fresh segment and removes the
// old segments.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writer.Flush(); err != nil {
		return err
	}
	old := make([]int, 0, len(s.segments))
	for id := range s.segments {
		old = append(old, id)
	}
	if err := s.openActive(s.active + 1); err != nil {
		return err
	}
	for key, loc := range s.index {
		buf := make([]byte, loc.size)
		if _, err := s.segments[loc.segment].ReadAt(buf, loc.offset); err != nil {
			return err
		}
		off, err := s.append(buf)
		if err != nil {
			return err
		}
		s.index[key] = location{segment: s.active, offset: off, size: loc.size, ts: loc.ts}
	}
	if err := s.writer.Flush(); err != nil {
		return err
	}
	for _, id := range old {
		s.segments[id].Close()
		delete(s.segments, id)
		os.Remove(s.segmentPath(id))
	}
	return nil
}

// Close flushes and closes every segment.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	if s.writer != nil {
		first = s.writer.Flush()
	}
	for _, f := range s.segments {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
