import AyumiStore

/// What the operator's probes and the server's housekeeping ask of the store.
public struct Health: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    /// Throws unless the database answers a read; what `/healthz` reports.
    public func check() async throws { _ = try await dependencies.store.tokenCount() }

    /// Gives back memory the store keeps for speed, if nothing was written since the last call.
    public func releaseMemoryIfIdle() async -> Bool { await dependencies.store.releaseMemoryIfIdle() }
}
