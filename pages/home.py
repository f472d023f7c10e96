"""Home: a placeholder until the dashboard issue lands; shows that the app is up."""

import dash
from dash import html

dash.register_page(__name__, path="/", title="Tradeblock")

layout = html.Div([html.P("Candles are flowing into the store. The dashboard comes next.", id="home-text")])
