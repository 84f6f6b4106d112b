import Foundation

/// A pthread reader-writer lock: many readers (the work loop, the keepalive
/// thread building a value) or one writer (a config watch applying a change).
public final class ReadWriteLock: @unchecked Sendable {
    private var lock = pthread_rwlock_t()

    public init() { pthread_rwlock_init(&lock, nil) }
    deinit { pthread_rwlock_destroy(&lock) }

    public func read<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }

    public func write<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }
}
