#include "comparesession.h"
#include "backend.h"
#include "chatmodel.h"
#include "chatstream.h"
#include "compareconversationsmodel.h"
#include "comparepanesmodel.h"
#include "gateway/gateway.h"
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMimeDatabase>
#include <QNetworkProxy>
#include <QSaveFile>
#include <QUuid>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

constexpr int kMaxCachedCosts = 512;
constexpr int kTitleLength = 60;
const QString kUser = QStringLiteral("user");
const QString kAssistant = QStringLiteral("assistant");
const QString kModelsSetting = QStringLiteral("compare.models");

qint64 now()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// The content of a user message: plain text, or text and image parts.
QJsonValue userContent(const ConversationMessage &m)
{
    if (m.images.isEmpty())
        return m.content;
    QJsonArray parts;
    if (!m.content.isEmpty())
        parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), m.content}});
    for (const QString &url : m.images)
        parts.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
            {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), url}}}});
    return parts;
}

// The time an answer took from the request to its last token, from the figures kept with it (an
// estimate: when the tokens came at once, tokens/s is taken over the whole request).
double answerDurationMs(const ConversationMessage &m)
{
    double ms = double(qMax<qint64>(0, m.ttftMs));
    if (m.tokensPerSecond > 0)
        ms += 1000.0 * double(m.outputTokens) / m.tokensPerSecond;
    return ms;
}

} // namespace

CompareSession::CompareSession(QObject *parent)
    : QObject(parent)
    , m_panes(new ComparePanesModel(this))
    , m_conversationList(new CompareConversationsModel(this))
{
    m_network.setProxy(QNetworkProxy::NoProxy); // the gateway is on this machine
    m_flush.setInterval(kFlushIntervalMs);
    connect(&m_flush, &QTimer::timeout, this, &CompareSession::flushPending);

    m_panes->append({}); // one empty pane until there is a backend
}

CompareSession::CompareSession(Backend *backend, QObject *parent)
    : CompareSession(parent)
{
    setBackend(backend);
}

void CompareSession::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "CompareSession"))
        return;
    attachBackend();
    announceBackend(this);
}

void CompareSession::attachBackend()
{
    while (m_panes->count() > 0) // the placeholder: nothing was asked in it yet
        m_panes->removeAt(m_panes->count() - 1);
    m_secret = m_backend->chatSecret();
    QString error;
    if (!m_store.open(m_backend->store().path(), &error))
        qCWarning(lcUi) << "Compare: conversations are not saved:" << error;
    connect(m_backend->gateway().events(), &GatewayEvents::requestFinished, this, &CompareSession::onRequestFinished);
    connect(m_backend, &Backend::providersChanged, this, &CompareSession::refreshModels);
    connect(m_backend, &Backend::keysChanged, this, &CompareSession::refreshModels);
    refreshModels();

    // The models compared last, or the first two the gateway offers.
    QStringList models;
    const QJsonArray remembered = m_backend->uiSetting(kModelsSetting).toArray();
    for (const QJsonValue &v : remembered) {
        if (v.isString() && models.size() < ComparePanesModel::kMaxPanes)
            models << v.toString();
    }
    if (models.isEmpty())
        models = m_availableModels.mid(0, 2);
    if (models.isEmpty())
        models << QString();
    for (const QString &m : std::as_const(models))
        m_panes->append({m, {}, std::nullopt});
    refreshConversations();
}

CompareSession::~CompareSession()
{
    for (int i = 0; i < m_panes->count(); ++i) {
        if (ChatStream *s = m_panes->pane(i).stream) {
            s->disconnect(this);
            delete s;
        }
    }
}

bool CompareSession::busy() const
{
    for (int i = 0; i < m_panes->count(); ++i) {
        if (m_panes->pane(i).stream)
            return true;
    }
    return false;
}

int CompareSession::lastRoundVote() const
{
    if (m_round == 0)
        return ConversationMessage::kNoVote;
    for (int i = 0; i < m_panes->count(); ++i) {
        const ChatModel *chat = m_panes->pane(i).chat;
        const int row = chat->answerRow(m_round);
        if (row < 0)
            continue;
        const int vote = chat->entry(row).message.vote;
        if (vote == 1)
            return i;
        if (vote == -1)
            return -1;
    }
    return ConversationMessage::kNoVote;
}

bool CompareSession::fail(const QString &message)
{
    Q_EMIT notify(message, true);
    return false;
}

QUrl CompareSession::chatUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(m_backend->gateway().port()));
}

void CompareSession::refreshModels()
{
    if (!m_backend)
        return;
    const auto snapshot = m_backend->context().registry.snapshot();
    // Chat models only: an embedding model cannot answer a chat (the catalog marks them).
    QStringList models;
    for (const QString &id : std::as_const(snapshot->modelOrder)) {
        const auto it = snapshot->models.constFind(id);
        if (it != snapshot->models.cend() && it->config.capabilities
            && it->config.capabilities->contains(QLatin1String("embeddings")))
            continue;
        models.append(id);
    }
    models += snapshot->routeOrder;
    models.removeDuplicates();
    if (models != m_availableModels) {
        m_availableModels = models;
        Q_EMIT availableModelsChanged();
    }
}

QStringList CompareSession::pickerModels(const QString &current) const
{
    if (current.isEmpty() || m_availableModels.contains(current))
        return m_availableModels;
    return QStringList{current} + m_availableModels;
}

void CompareSession::refreshConversations()
{
    m_conversationList->setConversations(m_store.conversations(), m_conversation.id);
}

void CompareSession::rememberModels()
{
    QJsonArray models;
    for (int i = 0; i < m_panes->count(); ++i)
        models.append(m_panes->pane(i).config.model);
    m_backend->setUiSetting(kModelsSetting, models);
}

bool CompareSession::send(const QString &text)
{
    if (!m_backend)
        return false;
    const QString message = text.trimmed();
    if (message.isEmpty() && m_attachmentUrls.isEmpty())
        return false;
    if (busy())
        return fail(tr("Wait for the answers, or stop them, before sending the next message."));
    if (m_secret.isEmpty())
        return fail(tr("The built-in key “%1” could not be created.").arg(QString(Backend::kChatKeyName)));
    for (int i = 0; i < m_panes->count(); ++i) {
        if (m_panes->pane(i).config.model.trimmed().isEmpty())
            return fail(tr("Choose a model for pane %1.").arg(i + 1));
    }

    const qint64 t = now();
    const bool first = m_conversation.id.isEmpty();
    if (first) {
        m_conversation.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        m_conversation.createdAtMs = t;
        QString title = message.simplified();
        if (title.size() > kTitleLength)
            title = title.left(kTitleLength - 1) + QStringLiteral("…");
        m_conversation.title = title.isEmpty() ? tr("Images") : title;
    }
    m_conversation.updatedAtMs = t;
    m_conversation.panes.clear();
    for (int i = 0; i < m_panes->count(); ++i)
        m_conversation.panes << m_panes->pane(i).config;
    m_store.saveConversation(m_conversation);

    ++m_round;
    ConversationMessage user;
    user.conversationId = m_conversation.id;
    user.round = m_round;
    user.pane = ConversationMessage::kAllPanes;
    user.role = kUser;
    user.content = message;
    user.images = m_attachmentUrls;
    user.createdAtMs = t;
    m_store.saveMessage(user);
    m_userMessages << user;

    for (int i = 0; i < m_panes->count(); ++i) {
        m_panes->pane(i).chat->append(user);
        startAnswer(i, m_round);
    }
    m_attachmentNames.clear();
    m_attachmentUrls.clear();
    Q_EMIT attachmentsChanged();
    rememberModels();
    refreshConversations();
    if (first)
        Q_EMIT conversationChanged();
    Q_EMIT roundChanged();
    Q_EMIT busyChanged();
    return true;
}

QJsonArray CompareSession::requestMessages(int pane, int round) const
{
    const ComparePane &p = m_panes->pane(pane);
    QJsonArray messages;
    if (!p.config.system.trimmed().isEmpty())
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("system")}, {QStringLiteral("content"), p.config.system}});
    // Earlier rounds this pane answered (an answer that failed leaves its round out).
    for (int r = 1; r < round && r <= m_userMessages.size(); ++r) {
        const int row = p.chat->answerRow(r);
        if (row < 0)
            continue;
        const ConversationMessage &answer = p.chat->entry(row).message;
        if (answer.content.isEmpty() || (!answer.error.isEmpty() && answer.error != kStopped))
            continue;
        messages.append(QJsonObject{{QStringLiteral("role"), kUser}, {QStringLiteral("content"), userContent(m_userMessages.at(r - 1))}});
        messages.append(QJsonObject{{QStringLiteral("role"), kAssistant}, {QStringLiteral("content"), answer.content}});
    }
    messages.append(QJsonObject{{QStringLiteral("role"), kUser}, {QStringLiteral("content"), userContent(m_userMessages.at(round - 1))}});
    return messages;
}

void CompareSession::startAnswer(int pane, int round)
{
    ComparePane &p = m_panes->pane(pane);
    ConversationMessage answer;
    answer.conversationId = m_conversation.id;
    answer.round = round;
    answer.pane = pane;
    answer.role = kAssistant;
    answer.modelId = p.config.model;
    answer.createdAtMs = now();
    int row = p.chat->answerRow(round);
    if (row < 0) {
        row = p.chat->append(answer, true);
    } else {
        answer.vote = p.chat->entry(row).message.vote;
        p.chat->update(row, answer, true);
        p.chat->setMarks(row, false, false);
    }
    p.answerRow = row;
    p.pending.clear();

    QJsonObject body{
        {QStringLiteral("model"), p.config.model},
        {QStringLiteral("messages"), requestMessages(pane, round)},
        {QStringLiteral("stream"), true},
        {QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}},
    };
    if (p.config.temperature)
        body.insert(QStringLiteral("temperature"), *p.config.temperature);

    auto *stream = new ChatStream(&m_network, this);
    p.stream = stream;
    connect(stream, &ChatStream::delta, this, [this, stream](const QString &text) {
        const int i = paneOf(stream);
        if (i < 0)
            return;
        m_panes->pane(i).pending += text;
        if (!m_flush.isActive())
            m_flush.start();
    });
    connect(stream, &ChatStream::headersReceived, this, [this, stream] { onHeaders(stream); });
    connect(stream, &ChatStream::finished, this, [this, stream] { onStreamFinished(stream); });
    stream->start(chatUrl(), m_secret, QJsonDocument(body).toJson(QJsonDocument::Compact));
    m_panes->paneChanged(pane);
    recomputeMarks(round);
}

int CompareSession::paneOf(const ChatStream *stream) const
{
    for (int i = 0; i < m_panes->count(); ++i) {
        if (m_panes->pane(i).stream == stream)
            return i;
    }
    return -1;
}

void CompareSession::flushPending()
{
    bool any = false;
    for (int i = 0; i < m_panes->count(); ++i) {
        ComparePane &p = m_panes->pane(i);
        if (p.pending.isEmpty())
            continue;
        p.chat->appendText(p.answerRow, p.pending);
        p.pending.clear();
        any = true;
    }
    if (!any)
        m_flush.stop();
}

void CompareSession::onHeaders(ChatStream *stream)
{
    const int i = paneOf(stream);
    if (i < 0)
        return;
    ComparePane &p = m_panes->pane(i);
    ConversationMessage m = p.chat->entry(p.answerRow).message;
    m.requestId = stream->result().requestId;
    if (!stream->result().servedModel.isEmpty())
        m.modelId = stream->result().servedModel;
    p.chat->update(p.answerRow, m, true);
}

void CompareSession::onStreamFinished(ChatStream *stream)
{
    const int i = paneOf(stream);
    stream->deleteLater();
    if (i < 0)
        return;
    ComparePane &p = m_panes->pane(i);
    if (!p.pending.isEmpty()) {
        p.chat->appendText(p.answerRow, p.pending);
        p.pending.clear();
    }
    const ChatStream::Result &r = stream->result();
    ConversationMessage m = p.chat->entry(p.answerRow).message;
    m.requestId = r.requestId;
    if (!r.servedModel.isEmpty())
        m.modelId = r.servedModel;
    m.inputTokens = r.usage.inputTokens;
    m.cacheReadTokens = r.usage.cacheReadTokens;
    m.outputTokens = r.usage.outputTokens;
    m.ttftMs = r.ttftMs;
    m.tokensPerSecond = 0;
    if (!r.requestId.isEmpty() && r.totalMs >= 0) {
        if (m_totalMs.size() >= kMaxCachedCosts)
            m_totalMs.clear();
        m_totalMs.insert(r.requestId, r.totalMs);
    }
    if (r.usage.outputTokens > 0 && r.ttftMs >= 0) {
        // Output tokens over the time they took to arrive; the whole request when they came at once.
        const qint64 generationMs = r.totalMs - r.ttftMs;
        const qint64 ms = generationMs >= 20 ? generationMs : qMax<qint64>(1, r.totalMs);
        m.tokensPerSecond = double(r.usage.outputTokens) * 1000.0 / double(ms);
    }
    m.error = r.aborted ? kStopped : r.error;
    if (m.error.isEmpty() && m.content.isEmpty() && r.usage.outputTokens == 0)
        m.error = tr("The model sent an empty answer.");
    bool costKnown = false;
    if (auto cost = m_costs.constFind(r.requestId); !r.requestId.isEmpty() && cost != m_costs.cend()) {
        m.cost = *cost;
        costKnown = true;
    }
    p.stream = nullptr;
    const int row = p.answerRow;
    p.chat->update(row, m, false);
    if (costKnown)
        p.chat->setCost(row, m.cost);
    saveAnswer(i, row);
    m_panes->paneChanged(i);
    recomputeMarks(m.round);
    Q_EMIT answerFinished(i);
    if (!busy()) {
        m_flush.stop();
        Q_EMIT busyChanged();
    }
}

void CompareSession::saveAnswer(int pane, int row)
{
    if (m_conversation.id.isEmpty())
        return;
    ConversationMessage m = m_panes->pane(pane).chat->entry(row).message;
    m.conversationId = m_conversation.id;
    m_store.saveMessage(m);
    m_store.touch(m_conversation.id, now());
}

void CompareSession::onRequestFinished(const RequestRecord &record)
{
    if (!m_backend || record.keyId != m_backend->chatKeyId() || record.id.isEmpty())
        return;
    if (!m_costs.contains(record.id)) {
        m_costOrder << record.id;
        if (m_costOrder.size() > kMaxCachedCosts)
            m_costs.remove(m_costOrder.takeFirst());
    }
    m_costs.insert(record.id, record.cost);
    // The answer of that request, if its headers came already.
    for (int i = 0; i < m_panes->count(); ++i) {
        ComparePane &p = m_panes->pane(i);
        for (int row = p.chat->rowCount() - 1; row >= 0; --row) {
            const ChatModel::Entry &e = p.chat->entry(row);
            if (e.message.requestId != record.id)
                continue;
            p.chat->setCost(row, record.cost);
            if (!e.streaming) {
                saveAnswer(i, row);
                recomputeMarks(e.message.round);
            }
            return;
        }
    }
}

void CompareSession::recomputeMarks(int round)
{
    struct Candidate {
        int pane;
        int row;
        double durationMs;
        std::optional<qint64> cost;
    };
    QList<Candidate> done;
    for (int i = 0; i < m_panes->count(); ++i) {
        const ChatModel *chat = m_panes->pane(i).chat;
        const int row = chat->answerRow(round);
        if (row < 0)
            continue;
        const ChatModel::Entry &e = chat->entry(row);
        if (!e.streaming && e.message.error.isEmpty()) {
            // Measured when it streamed in this session; else estimated from the kept figures.
            const auto total = m_totalMs.constFind(e.message.requestId);
            const double ms = total != m_totalMs.cend() ? double(*total) : answerDurationMs(e.message);
            done << Candidate{i, row, ms, e.message.cost};
        }
    }
    int fastest = -1;
    int cheapest = -1;
    if (done.size() >= 2) {
        for (int k = 0; k < done.size(); ++k) {
            if (fastest < 0 || done.at(k).durationMs < done.at(fastest).durationMs)
                fastest = k;
        }
        int priced = 0;
        for (int k = 0; k < done.size(); ++k) {
            if (!done.at(k).cost)
                continue;
            ++priced;
            if (cheapest < 0 || *done.at(k).cost < *done.at(cheapest).cost)
                cheapest = k;
        }
        if (priced < 2)
            cheapest = -1;
    }
    for (int i = 0; i < m_panes->count(); ++i) {
        ChatModel *chat = m_panes->pane(i).chat;
        const int row = chat->answerRow(round);
        if (row < 0)
            continue;
        bool isFastest = false;
        bool isCheapest = false;
        for (int k = 0; k < done.size(); ++k) {
            if (done.at(k).pane != i)
                continue;
            isFastest = k == fastest;
            // Ties share the mark.
            isCheapest = cheapest >= 0 && done.at(k).cost && *done.at(k).cost == *done.at(cheapest).cost;
        }
        chat->setMarks(row, isFastest, isCheapest);
    }
}

void CompareSession::stop(int pane)
{
    if (pane < 0 || pane >= m_panes->count())
        return;
    if (ChatStream *s = m_panes->pane(pane).stream)
        s->abort(); // finished() runs onStreamFinished() at once
}

void CompareSession::stopAll()
{
    for (int i = 0; i < m_panes->count(); ++i)
        stop(i);
}

bool CompareSession::regenerate(int pane)
{
    if (!m_backend || pane < 0 || pane >= m_panes->count() || m_round == 0)
        return false;
    ComparePane &p = m_panes->pane(pane);
    if (p.stream)
        return fail(tr("Pane %1 is still answering.").arg(pane + 1));
    if (p.config.model.trimmed().isEmpty())
        return fail(tr("Choose a model for pane %1.").arg(pane + 1));
    if (p.chat->answerRow(m_round) < 0)
        return false;
    m_conversation.panes.clear();
    for (int i = 0; i < m_panes->count(); ++i)
        m_conversation.panes << m_panes->pane(i).config;
    m_store.saveConversation(m_conversation);
    startAnswer(pane, m_round);
    Q_EMIT busyChanged();
    return true;
}

bool CompareSession::addPane(const QString &model)
{
    if (m_panes->count() >= ComparePanesModel::kMaxPanes || m_round > 0)
        return false;
    QString m = model;
    if (m.isEmpty()) {
        // The first model no pane asks yet.
        QStringList used;
        for (int i = 0; i < m_panes->count(); ++i)
            used << m_panes->pane(i).config.model;
        for (const QString &candidate : std::as_const(m_availableModels)) {
            if (!used.contains(candidate)) {
                m = candidate;
                break;
            }
        }
    }
    m_panes->append({m, {}, std::nullopt});
    return true;
}

bool CompareSession::removePane(int pane)
{
    if (m_panes->count() <= 1 || pane < 0 || pane >= m_panes->count() || m_round > 0 || m_panes->pane(pane).stream)
        return false;
    m_panes->removeAt(pane);
    return true;
}

void CompareSession::setPaneModel(int pane, const QString &model)
{
    if (pane < 0 || pane >= m_panes->count() || m_panes->pane(pane).config.model == model)
        return;
    m_panes->pane(pane).config.model = model.trimmed();
    m_panes->paneChanged(pane);
}

void CompareSession::setPaneSystem(int pane, const QString &system)
{
    if (pane < 0 || pane >= m_panes->count() || m_panes->pane(pane).config.system == system)
        return;
    m_panes->pane(pane).config.system = system;
    m_panes->paneChanged(pane);
}

void CompareSession::setPaneTemperature(int pane, double temperature)
{
    if (pane < 0 || pane >= m_panes->count())
        return;
    const std::optional<double> t = temperature < 0 ? std::nullopt : std::optional<double>(qBound(0.0, temperature, 2.0));
    if (m_panes->pane(pane).config.temperature == t)
        return;
    m_panes->pane(pane).config.temperature = t;
    m_panes->paneChanged(pane);
}

bool CompareSession::vote(int round, int pane)
{
    if (!m_backend || round < 1 || round > m_round || pane < -1 || pane >= m_panes->count())
        return false;
    // One row per model that answered; a model shown in two panes counts once (chosen if either was).
    QList<Store::Vote> votes;
    QHash<QString, qsizetype> byModel;
    bool chosenAnswered = pane < 0;
    for (int i = 0; i < m_panes->count(); ++i) {
        const ChatModel *chat = m_panes->pane(i).chat;
        const int row = chat->answerRow(round);
        if (row < 0)
            continue;
        const ChatModel::Entry &e = chat->entry(row);
        if (e.streaming || !e.message.error.isEmpty() || e.message.modelId.isEmpty())
            continue;
        const int result = pane < 0 ? -1 : (i == pane ? 1 : 0);
        chosenAnswered = chosenAnswered || i == pane;
        if (auto it = byModel.constFind(e.message.modelId); it != byModel.cend()) {
            votes[*it].result = qMax(votes.at(*it).result, result);
            continue;
        }
        byModel.insert(e.message.modelId, votes.size());
        votes << Store::Vote{QStringLiteral("%1#%2").arg(m_conversation.id).arg(round), e.message.modelId, result, now()};
    }
    if (!chosenAnswered)
        return fail(tr("Only a finished answer can be voted for."));
    if (votes.isEmpty())
        return fail(tr("No finished answers to vote on in this round."));
    if (!m_backend->store().saveRoundVotes(votes.constFirst().roundId, votes))
        return fail(tr("The vote could not be saved."));
    m_store.setRoundVote(m_conversation.id, round, pane);
    for (int i = 0; i < m_panes->count(); ++i) {
        ChatModel *chat = m_panes->pane(i).chat;
        const int row = chat->answerRow(round);
        if (row >= 0)
            chat->setVote(row, pane < 0 ? -1 : (i == pane ? 1 : 0));
    }
    m_backend->gateway().reloadKeys(); // the quality strategy reads the votes from the registry snapshot
    Q_EMIT roundChanged();
    return true;
}

void CompareSession::newConversation()
{
    stopAll();
    for (int i = 0; i < m_panes->count(); ++i)
        m_panes->pane(i).chat->clear();
    m_userMessages.clear();
    m_conversation = {};
    m_round = 0;
    refreshConversations();
    Q_EMIT conversationChanged();
    Q_EMIT roundChanged();
}

bool CompareSession::openConversation(const QString &id)
{
    const std::optional<Conversation> c = m_store.conversation(id);
    if (!c)
        return fail(tr("That conversation no longer exists."));
    stopAll();
    const QList<ConversationMessage> messages = m_store.messages(id);

    QList<ConversationPane> panes = c->panes.mid(0, ComparePanesModel::kMaxPanes);
    for (const ConversationMessage &m : messages) {
        while (m.pane >= panes.size() && m.pane < ComparePanesModel::kMaxPanes)
            panes << ConversationPane{m.modelId, {}, std::nullopt};
    }
    if (panes.isEmpty())
        panes << ConversationPane{};
    while (m_panes->count() > 0)
        m_panes->removeAt(m_panes->count() - 1);
    for (const ConversationPane &p : std::as_const(panes))
        m_panes->append(p);

    m_conversation = *c;
    m_userMessages.clear();
    m_round = 0;
    for (const ConversationMessage &m : messages)
        m_round = qMax(m_round, m.round);
    for (int r = 1; r <= m_round; ++r) {
        ConversationMessage user;
        user.conversationId = id;
        user.round = r;
        user.role = kUser;
        for (const ConversationMessage &m : messages) {
            if (m.round == r && m.role == kUser)
                user = m;
        }
        m_userMessages << user;
        for (int i = 0; i < m_panes->count(); ++i) {
            ChatModel *chat = m_panes->pane(i).chat;
            chat->append(user);
            for (const ConversationMessage &m : messages) {
                if (m.round == r && m.pane == i && m.role == kAssistant)
                    chat->append(m, false, true);
            }
        }
        recomputeMarks(r);
    }
    refreshConversations();
    Q_EMIT conversationChanged();
    Q_EMIT roundChanged();
    return true;
}

bool CompareSession::renameConversation(const QString &id, const QString &title)
{
    const QString t = title.simplified();
    if (t.isEmpty())
        return false;
    if (!m_store.rename(id, t))
        return fail(tr("The conversation could not be renamed: %1").arg(m_store.lastError()));
    if (id == m_conversation.id) {
        m_conversation.title = t;
        Q_EMIT conversationChanged();
    }
    refreshConversations();
    return true;
}

bool CompareSession::deleteConversation(const QString &id)
{
    if (id == m_conversation.id)
        newConversation();
    if (!m_store.remove(id))
        return fail(tr("The conversation could not be deleted: %1").arg(m_store.lastError()));
    refreshConversations();
    return true;
}

bool CompareSession::exportMarkdown(const QString &id, const QUrl &file)
{
    const QString which = id.isEmpty() ? m_conversation.id : id;
    const std::optional<Conversation> c = m_store.conversation(which);
    if (!c)
        return fail(tr("There is no saved conversation to export yet."));
    const QString path = file.isLocalFile() ? file.toLocalFile() : file.toString();
    QSaveFile out(path);
    if (path.isEmpty() || !out.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return fail(tr("Cannot write %1: %2").arg(path, out.errorString()));
    out.write(ConversationStore::toMarkdown(*c, m_store.messages(which)).toUtf8());
    if (!out.commit())
        return fail(tr("Cannot write %1: %2").arg(path, out.errorString()));
    return true;
}

bool CompareSession::attachImage(const QUrl &file)
{
    const QString path = file.isLocalFile() ? file.toLocalFile() : file.toString();
    QFile f(path);
    const QString mime = QMimeDatabase().mimeTypeForFile(path).name();
    if (!mime.startsWith(QLatin1String("image/")))
        return fail(tr("%1 is not an image.").arg(QFileInfo(path).fileName()));
    if (f.size() > kMaxImageBytes)
        return fail(tr("%1 is larger than 20 MB.").arg(QFileInfo(path).fileName()));
    if (!f.open(QIODevice::ReadOnly))
        return fail(tr("Cannot read %1: %2").arg(path, f.errorString()));
    const QByteArray bytes = f.readAll();
    m_attachmentNames << QFileInfo(path).fileName();
    m_attachmentUrls << QStringLiteral("data:%1;base64,%2").arg(mime, QString::fromLatin1(bytes.toBase64()));
    Q_EMIT attachmentsChanged();
    return true;
}

void CompareSession::removeAttachment(int index)
{
    if (index < 0 || index >= m_attachmentUrls.size())
        return;
    m_attachmentNames.removeAt(index);
    m_attachmentUrls.removeAt(index);
    Q_EMIT attachmentsChanged();
}

} // namespace gh::ui
