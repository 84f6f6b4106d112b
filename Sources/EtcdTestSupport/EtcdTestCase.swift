// Only where XCTest exists: the bench links EtcdTestSupport for EtcdCluster in
// release builds, which have no XCTest.
#if canImport(XCTest)
import Concurrency
import XCTest

/// Base of every test class that shares one real etcd member: the class's
/// `setUp` starts it (loopback, free ports, temporary data directory) and its
/// `tearDown` stops it, also when tests failed. XCTest runs classes one after
/// another, so one slot serves every subclass in turn.
open class EtcdTestCase: XCTestCase {
    private static let member = Locked<EtcdCluster?>(nil)

    /// This class's etcd, nil when it could not start (tests then skip).
    public static var cluster: EtcdCluster? { member.withLock { $0 } }

    /// Extra etcd flags for this class's member (e.g. a small `--quota-backend-bytes`).
    open class var etcdArguments: [String] { [] }

    override open class func setUp() {
        super.setUp()
        let started = try? EtcdCluster(extraArguments: etcdArguments)
        member.withLock { $0 = started }
    }

    override open class func tearDown() {
        member.withLock {
            $0?.stop()
            $0 = nil
        }
        super.tearDown()
    }

    /// The class's etcd, or a skip that says how to get one.
    public func requireCluster() throws -> EtcdCluster {
        guard let cluster = Self.cluster else {
            throw XCTSkip("etcd not available at \(EtcdCluster.binary): install etcd-server")
        }
        return cluster
    }
}
#endif
