import Foundation
import NIOPosix
import Trading

/// A recording on disk, read in 64 KiB chunks on NIO's thread pool so that no cooperative thread blocks on I/O.
struct FileReplaySource: ReplaySource {
    let path: String
    var chunkBytes = 1 << 16
    var maxLineBytes = 1 << 20

    func forEachLine(_ body: (String?) async throws -> Void) async throws {
        let pool = NIOThreadPool.singleton
        let handle: FileHandle
        do {
            handle = try await pool.runIfActive { [path] in try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) }
        } catch {
            throw BourseError.validation("cannot open the replay file \(path)")
        }
        defer { try? handle.close() }
        var splitter = LineSplitter(maxLineBytes: maxLineBytes)
        while true {
            let chunk = try await pool.runIfActive { [chunkBytes] in try handle.read(upToCount: chunkBytes) ?? Data() }
            let lines = chunk.isEmpty ? splitter.finish() : splitter.append(chunk)
            for line in lines { try await body(line) }
            if chunk.isEmpty { return }
        }
    }
}
