pragma Singleton
pragma ComponentBehavior: Bound

import QtQuick
import Gatehouse

// Money in the display currency, for bindings. Format.usd() is a C++ method, and a binding that only
// calls it does not depend on the currency: after a switch to EUR the tiles kept their dollars. Each
// function here reads Format.currency (whose notify signal also carries the rate), so a binding that
// shows money through it is re-evaluated when the currency or its rate changes.
QtObject {
    id: money

    // "$0.0123", "€12.50", ... from an amount in USD.
    function usd(value: real): string {
        money.touch(Format.currency);
        return Format.usd(value);
    }
    // "No limit" for a negative limit, else usd().
    function limit(value: real): string {
        money.touch(Format.currency);
        return Format.limit(value);
    }
    // The symbol for an axis or a column title.
    readonly property string symbol: Format.currencySymbol

    function touch(dependency: string) {
    }
}
