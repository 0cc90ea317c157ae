import Hummingbird
import Synchronization

/// The routes the router serves, to answer a known path with the wrong method as RFC 9110 asks:
/// 405 with an `Allow` header, instead of a 404 that suggests the path does not exist.
/// Filled once the routes are registered (middleware must be added before them).
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [Substring], method: HTTPRequest.Method)]>([])

    func register(_ descriptions: [Router<BasicRequestContext>.RouteDescription]) {
        routes.withLock { table in
            table = descriptions.map { ($0.path.description.split(separator: "/"), $0.method) }
        }
    }

    /// The methods served at `path`, sorted; empty when no route matches the path.
    func methods(at path: String) -> [String] {
        let segments = path.split(separator: "/")
        return routes.withLock { table in
            table.filter { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            }.map(\.method.rawValue)
        }.sorted()
    }
}
