#pragma once
#include "backend.h"
#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// Today's refusals (requests Gatehouse turned away before forwarding: budget, policy, secret,
// guardrail; gateway/refusal.h), counted by kind from the request log off the UI thread, again each
// time rows are committed and at midnight.
class RefusalSummary : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int total READ total NOTIFY changed)
    Q_PROPERTY(int budget READ budget NOTIFY changed)
    Q_PROPERTY(int policy READ policy NOTIFY changed)
    Q_PROPERTY(int secret READ secret NOTIFY changed)
    Q_PROPERTY(int guardrail READ guardrail NOTIFY changed)
public:
    explicit RefusalSummary(QObject *parent = nullptr);
    explicit RefusalSummary(Backend *backend, QObject *parent = nullptr); // tests
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int total() const { return m_budget + m_policy + m_secret + m_guardrail + m_other; }
    [[nodiscard]] int budget() const { return m_budget; }
    [[nodiscard]] int policy() const { return m_policy; }
    [[nodiscard]] int secret() const { return m_secret; }
    [[nodiscard]] int guardrail() const { return m_guardrail; }

    // Counts again now (also done on every commit of rows).
    Q_INVOKABLE void refresh();

Q_SIGNALS:
    void backendChanged();
    void changed();
    void refreshed(); // a count finished (tests)

private:
    void apply(const QHash<QString, qint64> &counts);
    QPointer<Backend> m_backend;
    int m_budget = 0, m_policy = 0, m_secret = 0, m_guardrail = 0;
    int m_other = 0; // a kind this build does not know (a newer one wrote the row)
    bool m_running = false;
    bool m_again = false;
};

} // namespace gh::ui
