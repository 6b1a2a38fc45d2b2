#pragma once
#include "routing/registry.h"
#include <QString>
#include <QStringList>
#include <memory>

// "Connect a tool": the ready-to-paste configuration for each tool Gatehouse supports, as the
// window's dialog and `gatehouse connect TOOL` print it. One generator for both, so what a user
// copies from either place is what the real-CLI tests (tests/sdk/cli.test.mjs) apply and run.
namespace gh {

struct ConnectRequest {
    QString tool;            // a snippetTools() id
    QString origin;          // "http://127.0.0.1:8484": the gateway, without /v1
    QString keyName;         // empty: no particular key
    QString secret;          // empty: a placeholder (secretPlaceholder) stands in for it
    QStringList allowModels; // the key's allow patterns; empty: every model
    QString model;           // the model to name; empty: one the key can reach, picked per tool
};

struct ConnectSnippet {
    bool ok = false;
    QString text;  // the snippet (ends with a newline)
    QString model; // the model it names ("" when the key reaches none: then a placeholder is named)
    QString error; // when !ok: why (unknown tool)
};

// Tool ids, in the order the window lists them.
[[nodiscard]] QStringList snippetTools();
// "Claude Code", "Codex CLI", ...; "" for an unknown id.
[[nodiscard]] QString snippetToolTitle(const QString &tool);
// What stands in for a secret Gatehouse no longer knows (only its hash is stored).
[[nodiscard]] QString secretPlaceholder(const QString &keyName);

// The model a tool should name: an enabled, allowed model whose provider speaks the format the tool
// sends (Codex: OpenAI Responses, forwarded untranslated to OpenAI-format providers only; Claude Code
// and the Anthropic SDK: Anthropic; the rest: OpenAI chat), priced ones first (a capped key refuses
// unpriced models), then any allowed model the gateway can translate to; "" when there is none.
[[nodiscard]] QString pickSnippetModel(const RegistrySnapshot &registry, const QString &tool, const QStringList &allowModels);

// The snippet for `request` (request.model empty: pickSnippetModel's choice).
[[nodiscard]] ConnectSnippet connectSnippet(const RegistrySnapshot &registry, const ConnectRequest &request);

} // namespace gh
