#pragma once
#include "secretscan/secretrules.h"
#include <QByteArray>
#include <QList>

namespace gh {

// Replaces each finding of `body` (a JSON request body, as scanned) by "[REDACTED:<rule-id>#n]":
// n counts the distinct secrets of one rule in this body, so the same secret sent twice in one
// request gets the same placeholder (the model can still tell that two places hold the same value).
// The placeholder holds no quote or backslash, so it is a valid piece of any JSON string. A
// finding's edges are moved outward over a JSON escape it cuts ("\n", "\u00e9") so that no escape
// is left half. A finding that crosses a string boundary (an unescaped quote inside it) cannot be
// replaced without breaking the document: nothing is changed, false is returned and *ruleId names
// the rule. `findings` must be sorted by offset and not overlap (SecretRules::scan's order).
[[nodiscard]] bool redactSecrets(QByteArray *body, const QList<SecretFinding> &findings, QString *ruleId);

} // namespace gh
