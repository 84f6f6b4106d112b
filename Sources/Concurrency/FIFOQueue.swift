/// A first-in first-out queue with O(1) amortized `append` and `popFirst`,
/// the backlog inside `Mailbox`.
///
/// Why not `Array.removeFirst()`: it shifts every remaining element, so
/// draining a backlog of n messages costs O(n²): a server that fell behind by
/// thousands of heartbeats would fall further behind while catching up.
/// Instead the head advances over a slot it clears, and the consumed prefix is
/// dropped only once it is at least half the storage, which spreads the cost
/// of the shift over at least as many pops as it moves elements.
/// A plain value: owns its elements, nothing else.
struct FIFOQueue<Element> {
    // Optional slots so a consumed slot releases its element at once instead of
    // keeping it alive until the next compaction.
    private var storage: [Element?] = []
    private var head = 0

    /// Below this many consumed slots compaction is not worth a call.
    private static var compactionThreshold: Int { 1_024 }

    init() {}

    var isEmpty: Bool { head == storage.count }

    var count: Int { storage.count - head }

    /// The element `popFirst` would return, left in place.
    var first: Element? { head < storage.count ? storage[head] : nil }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        if head == storage.count {
            // Drained: start over. Keep a small buffer for the common case of a
            // few messages at a time; give a burst's large one back.
            storage.removeAll(keepingCapacity: storage.count <= Self.compactionThreshold)
            head = 0
        } else if head >= Self.compactionThreshold && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}

extension FIFOQueue: Sendable where Element: Sendable {}
