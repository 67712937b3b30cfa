// lru_cache.cpp - a thread-safe LRU cache with per-entry TTL, used by the
// tile server to keep rendered map tiles in memory.
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tiles {

using Clock = std::chrono::steady_clock;

template <typename K, typename V>
class LruCache {
public:
    struct Stats {
        std::size_t hits = 0;
        std::size_t misses = 0;
        std::size_t evictions = 0;
        std::size_t expirations = 0;
    };

    LruCache(std::size_t capacity, std::chrono::milliseconds ttl,
             std::function<std::size_t(const V&)> weigh = [](const V&) { return 1; })
        : capacity_(capacity), ttl_(ttl), weigh_(std::move(weigh)) {}

    LruCache(const LruCache&) = delete;
    LruCache& operator=(const LruCache&) = delete;

    std::optional<V> get(const K& key) {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = index_.find(key);
        if (it == index_.end()) {
            ++stats_.misses;
            return std::nullopt;
        }
        if (Clock::now() >= it->second->expires) {
            ++stats_.expirations;
            eraseLocked(it);
            ++stats_.misses;
            return std::nullopt;
        }
        order_.splice(order_.begin(), order_, it->second);
        ++stats_.hits;
        return it->second->value;
    }

    void put(const K& key, V value) {
        std::size_t w = weigh_(value);
        std::lock_guard<std::mutex> lock(mu_);
        auto it = index_.find(key);
        if (it != index_.end()) {
            weight_ -= it->second->weight;
            it->second->value = std::move(value);
            it->second->weight = w;
            it->second->expires = Clock::now() + ttl_;
            weight_ += w;
            order_.splice(order_.begin(), order_, it->second);
        } else {
            order_.push_front(Entry{key, std::move(value), w, Clock::now() + ttl_});
            index_[key] = order_.begin();
            weight_ += w;
        }
        while (weight_ > capacity_ && !order_.empty()) {
            auto last = std::prev(order_.end());
            weight_ -= last->weight;
            index_.erase(last->key);
            order_.pop_back();
            ++stats_.evictions;
        }
    }

    bool erase(const K& key) {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = index_.find(key);
        if (it == index_.end())
            return false;
        eraseLocked(it);
        return true;
    }

    // Drops every expired entry; returns how many were dropped.
    std::size_t sweep() {
        std::lock_guard<std::mutex> lock(mu_);
        auto now = Clock::now();
        std::size_t n = 0;
        for (auto it = order_.begin(); it != order_.end();) {
            if (now >= it->expires) {
                weight_ -= it->weight;
                index_.erase(it->key);
                it = order_.erase(it);
                ++n;
            } else {
                ++it;
            }
        }
        stats_.expirations += n;
        return n;
    }

    // Returns the value, computing and caching it on a miss. The loader runs
    // without the lock held, so two callers may compute the same key.
    V getOrLoad(const K& key, const std::function<V(const K&)>& loader) {
        if (auto v = get(key))
            return *v;
        V v = loader(key);
        put(key, v);
        return v;
    }

    std::size_t size() const {
        std::lock_guard<std::mutex> lock(mu_);
        return index_.size();
    }

    std::size_t weight() const {
        std::lock_guard<std::mutex> lock(mu_);
        return weight_;
    }

    Stats stats() const {
        std::lock_guard<std::mutex> lock(mu_);
        return stats_;
    }

    std::vector<K> keys() const {
        std::lock_guard<std::mutex> lock(mu_);
        std::vector<K> out;
        out.reserve(order_.size());
        for (const auto& e : order_)
            out.push_back(e.key);
        return out;
    }

private:
    struct Entry {
        K key;
        V value;
        std::size_t weight;
        Clock::time_point expires;
    };
    using List = std::list<Entry>;

    void eraseLocked(typename std::unordered_map<K, typename List::iterator>::iterator it) {
        weight_ -= it->second->weight;
        order_.erase(it->second);
        index_.erase(it);
    }

    std::size_t capacity_;
    std::chrono::milliseconds ttl_;
    std::function<std::size_t(const V&)> weigh_;
    mutable std::mutex mu_;
    List order_;
    std::unordered_map<K, typename List::iterator> index_;
    std::size_t weight_ = 0;
    Stats stats_;
};

struct TileKey {
    int z, x, y;
    bool operator==(const TileKey& o) const { return z == o.z && x == o.x && y == o.y; }
};

struct TileKeyHash {
    std::size_t operator()(const TileKey& k) const {
        return (static_cast<std::size_t>(k.z) << 58) ^ (static_cast<std::size_t>(k.x) << 29) ^
               static_cast<std::size_t>(k.y);
    }
};

}  // namespace tiles
