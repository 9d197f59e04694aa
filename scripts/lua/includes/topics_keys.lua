-- topics_keys(): the twelve keys every message-moving topics script receives, by name.
-- KEYS[1..7] belong to the topic, KEYS[8..11] to its dead-letter topic (same hash tag), KEYS[12]
-- is the topic's gpend (holds on messages its consumer groups read too: includes/topics_maintain).
local function topics_keys()
  return {
    seq = KEYS[1],       -- string: counter giving ready messages their FIFO score
    ready = KEYS[2],     -- zset id -> seq, visible now
    delayed = KEYS[3],   -- zset id -> due ms
    inflight = KEYS[4],  -- zset id -> lease end ms
    expiry = KEYS[5],    -- zset id -> expiry ms, only messages with a ttl
    msgs = KEYS[6],      -- hash id -> payload bytes
    meta = KEYS[7],      -- hash id -> "created_ms:retry_count:expires_ms:content_type"
    dlq_seq = KEYS[8], dlq_ready = KEYS[9], dlq_msgs = KEYS[10], dlq_meta = KEYS[11],
    gpend = KEYS[12],    -- hash id -> holds left, for messages published while the topic had groups
  }
end
