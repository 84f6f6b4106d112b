/// The moments nodes turn stale, earliest first: a binary min-heap of
/// (deadline, node), so the fleet state finds its next deadline in O(1) and
/// records a new one in O(log n) instead of scanning every node per event.
///
/// Removal is lazy: a node's newer deadline is simply pushed, and the owner
/// skips popped items that no longer match the node's current deadline. Each
/// node therefore has a few items in flight (about StaleAfterRounds of them),
/// each gone once its moment passes.
struct DeadlineQueue: Sendable {
    struct Item: Sendable, Equatable {
        let deadline: Double
        let node: String
    }

    private var heap: [Item] = []

    var count: Int { heap.count }

    /// The earliest item, possibly one the owner will find outdated.
    var min: Item? { heap.first }

    mutating func push(_ deadline: Double, _ node: String) {
        heap.append(Item(deadline: deadline, node: node))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func popMin() -> Item? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let item = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count && heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return item
    }

    mutating func removeAll() { heap.removeAll(keepingCapacity: true) }
}
