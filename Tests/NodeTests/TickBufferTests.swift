import Feeds
import Testing

@testable import Node

@Suite("Tick buffer")
struct TickBufferTests {
    static func tick(_ index: Int) -> ReferenceTick {
        ReferenceTick(kind: .trade, priceUnits: Int64(index + 1), quantityUnits: 1, timestampMillis: Int64(index))
    }

    @Test("take hands over everything appended since, oldest first")
    func takesInOrder() {
        let buffer = TickBuffer()
        for index in 0..<3 { buffer.append(Self.tick(index)) }
        #expect(buffer.take().map(\.timestampMillis) == [0, 1, 2])
        #expect(buffer.take().isEmpty)
        buffer.append(Self.tick(3))
        #expect(buffer.take().map(\.timestampMillis) == [3])
        #expect(buffer.droppedCount == 0)
    }

    @Test("when the exchange falls behind, the oldest ticks go and are counted")
    func dropsOldestWhenFull() {
        let buffer = TickBuffer()
        for index in 0...TickBuffer.capacity { buffer.append(Self.tick(index)) }
        let kept = buffer.take()
        #expect(kept.count == TickBuffer.capacity / 2)
        #expect(kept.last?.timestampMillis == Int64(TickBuffer.capacity))
        #expect(kept.first?.timestampMillis == Int64(TickBuffer.capacity / 2 + 1))
        #expect(buffer.droppedCount == TickBuffer.capacity / 2 + 1)
    }
}
