#pragma once
#include <QByteArray>
#include <QString>

namespace gh {

// What the guardrails read from a model request's body (guardrails.h): hashes of its conversation
// with the volatile parts left out, and the session the client names. Hashes are XXH3 over a
// normalized walk of the JSON values, never over the raw bytes, so that what changes between two
// sends of the same turn does not change them:
//   - object members named cache_control (Claude Code moves its cache breakpoint to the newest
//     message every turn), id, tool_use_id, tool_call_id, call_id (generated per call by the model,
//     so two runs of the same loop never share them) and signature (thinking blocks);
//   - white space between tokens (strings are hashed as written: a client writes the same text
//     with the same escapes every time).
// The system prompt and the tools are not part of either hash: they carry dates, working
// directories and git status, which change under a loop without making it anything else.
struct RequestShape {
    quint64 contentHash = 0;   // the whole message list (messages / input); 0: none to judge
    quint64 lastTurnHash = 0;  // its last message alone: the tool result or user turn being answered
    qint64 lastTurnBytes = 0;  // the text bytes of that last message (short acknowledgements are not judged)
    qint64 textBytes = 0;      // the text bytes of the whole list (short prompts are not judged)
    int messageCount = 0;      // messages in the list (a retry sends as many as before; a new turn more)
    // The session the body names, as "<field>:<hash>": OpenAI `user` or `metadata.session_id`,
    // Anthropic `metadata.user_id`. Hashed: an OpenAI `user` may be an e-mail address, and this
    // ends up in logs and in GET /v1/key. Empty when the body names none.
    QString sessionHint;
};

// Reads the shape of an already validated request body (gateway/requestbody.h grew its capacity
// for the parser's padding; it is grown here when it was not). A body it cannot read gives an
// empty shape: the guardrails then judge nothing, they never refuse because of a parse problem.
[[nodiscard]] RequestShape readRequestShape(QByteArray &body);

// XXH3 with the guardrails' fixed seed, as 16 hex digits, for labels and evidence.
[[nodiscard]] QString shortHash(quint64 h);

} // namespace gh
