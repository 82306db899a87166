## Frame
nav-label = Main navigation
nav-dashboard = Dashboard
nav-surveys = Surveys
nav-incidents = Incidents
nav-cases = Cases
nav-orders = Orders
nav-calls = Calls
nav-settings = Settings
language = Language
language-apply = Apply
logout = Sign out

role-admin = Administrator
role-quality = Quality manager
role-dispatcher = Dispatcher
role-operator = Support operator

## Status pages
status-403-heading = Not for your role
status-403-text = Your account cannot open this page. If you need it for your work, ask an administrator to change your role.
status-404-heading = Nothing here
status-404-text = This page or record does not exist. Check the address, or search for it from the Orders page.
status-500-heading = Something went wrong
status-500-text = The server could not finish this request and nothing was changed. Try again; if it keeps failing, tell your administrator the time it happened.
status-home = Go to Orders

## Sign in
login-title = Sign in
login-login = Login
login-password = Password
login-submit = Sign in
login-failed = Wrong login or password. Check the keyboard layout and Caps Lock, then try again.
login-throttled = Too many failed attempts for this login. Try again in { $minutes } min, or ask an administrator to reset your password.
login-expired = The sign-in form had expired. Please enter your password again.

## Orders
orders-title = Orders
orders-found = { $count ->
    [one] { $count } order found
   *[other] { $count } orders found
}
orders-search = Order number or customer phone
orders-search-hint = e.g. A-10234 or 8 916 123-45-67
orders-bad-date = “{ $value }” is not a date; use the date picker (YYYY-MM-DD). That filter was left out.
orders-local-times = Promised windows and delivery times are local to each order's city.
orders-none-match = No orders match these filters. Widen the dates or reset the filters.
orders-none-yet = No orders yet. Import your first export from the company's system:
col-order = Order
col-window = Promised window
col-status = Status
col-customer = Customer
col-city = City
col-partner = Partner
col-courier = Courier
col-amount = Amount
filter-all = All
filter-from = From
filter-to = To
filter-apply = Apply
filter-reset = Reset
status-pending = Expected
status-late = Late
status-delivered_on_time = On time
status-delivered_late = Delivered late
segment-new = new customer
segment-repeat = repeat customer
pager-label = Pages
pager-prev = Previous
pager-next = Next
pager-page = Page

order-title = Order { $number }
order-delivery = Delivery
order-delivered = Delivered at
order-not-delivered = not delivered yet
order-customer = Customer
order-imported = Imported
order-updated = last changed

order-survey = Door survey
order-survey-none = No survey answers for this order yet.
response-completed = Answered
response-refused = Refused
response-timed_out = Timed out
response-mode-handover = handed to the customer
response-mode-interviewer = asked aloud by the courier
response-mode-terminal = on the terminal
response-mode-link = by link
response-mode-api = sent by a system
response-how = { $mode }, { $seconds } s
answer-yes = Yes
answer-no = No
answer-attachment = attachment kept

customer-title = Customer
customer-unnamed = Customer without a name
customer-name = Name
customer-phone = Phone
customer-email = E-mail
customer-segment = Segment
customer-orders = Orders
customer-late = Late orders
customer-first = First order
customer-last = Latest order
customer-all-orders = All of this customer's orders

surveys-lead = Published surveys, at their current versions. Terminals and customer links get the survey whose targeting fits the order.
surveys-none = No surveys yet. Publish one through the API: POST /api/v1/surveys (see the README).
surveys-edit-note = To change a survey, publish its next version with PUT /api/v1/surveys/{"{"}id{"}"}: answers keep the version they answered. A form builder in the console comes in a later release.
surveys-col-name = Survey
surveys-col-version = Version
surveys-col-questions = Questions
surveys-col-languages = Languages
surveys-col-targeting = For orders
surveys-col-updated = Published
surveys-every-order = every order
surveys-sample = 1 in { $n }
surveys-priority = priority { $priority }
survey-version = Version { $version }
survey-timeout = closes as timed out after { $seconds } s without an answer
survey-no-timeout = no time-out
survey-measures = measures { $what }
survey-weight = weight { $weight }
survey-required = required
survey-after-consent = offered only after consent
survey-other = Other (free text)
survey-show-if = shown when “{ $question }” is { $condition }
survey-preview = As the customer sees it
question-nps = NPS 0–10
question-scale = Scale
question-single_choice = One choice
question-multi_choice = Several choices
question-text = Free text
question-voice = Voice message
question-photo = Photo
question-consent = Consent

link-title = How was your delivery?
link-send = Send
link-refuse = No, thanks
link-answer-needed = Please answer: “{ $question }”
link-thanks-heading = Thank you!
link-thanks-text = Your answers reached us. They help the couriers and the support team do better.
link-refused-heading = Thank you all the same
link-refused-text = We will not ask about this order again.
link-answered-heading = Already answered
link-answered-text = This survey has been answered already. Thank you for your time!
link-expired-heading = This link has expired
link-expired-text = The survey for this order is closed. If something went wrong with your order, please contact support.
link-unknown-heading = Link not found
link-unknown-text = Check that the whole link was copied from the message.

## Settings
settings-title = Settings
settings-saved = Settings saved.
settings-user-added = Account added. Give the person their login and password.
settings-token-revoked = Token revoked: it no longer opens the API.
settings-login-taken = The login “{ $login }” is taken; choose another.
settings-token-name-required = Give the token a name (up to 100 characters) that says which system will use it.
settings-no-courier = There is no courier “{ $id }”. Couriers arrive with imported orders.
settings-deployment = Deployment
settings-name = Company name
settings-time-zone = Time zone
settings-time-zone-hint = Local times in imports, days and weeks are read in this zone.
settings-phone-country = Phone country
settings-phone-country-hint = Assumed for numbers written without a country code.
settings-currency = Currency
settings-save = Save settings
settings-users = People
settings-login = Login
settings-role = Role
settings-created = Created
settings-add-user = Add account
settings-password = Password
settings-password-hint = At least 10 characters.
settings-tokens = API tokens and terminals
settings-tokens-explain = Integration tokens let the company's systems send orders; terminal tokens belong to couriers' devices. A token is shown once, when it is made.
settings-no-tokens = No tokens yet.
settings-token-name = Name
settings-last-used = Last used
settings-revoked = Revoked
settings-revoke = Revoke
settings-new-token = New integration token
settings-create-token = Create token
settings-enroll = Enrol a courier's terminal
settings-enroll-no-couriers = Couriers appear here once orders with couriers are imported.
settings-enroll-button = Make enrolment code

secret-token-heading = Token “{ $name }” created
secret-token-explain = Copy it now into the system that will call the API. It is shown only this once; Doorstep keeps only a fingerprint of it.
secret-code-heading = Enrolment code for { $courier }
secret-code-explain = The courier opens the terminal on the device and types this code. It works once, within { $hours } hours.
secret-done = Done

## Sections still to come
roadmap-meanwhile = This section arrives with a coming release. Orders, customers and accounts work now.
roadmap-dashboard-lead = The dashboard will show how customers rate your deliveries, live, for any period.
roadmap-dashboard-1 = NPS, CSI, CES, CSAT and NetEasy, each with its sample size and 95% interval
roadmap-dashboard-2 = Response and refusal rates, on-time rate, first-contact resolution
roadmap-dashboard-3 = Drill-down by courier, city, partner, segment, survey and channel; trends as charts
roadmap-dashboard-4 = Reports for any period as CSV, XLSX and printable pages
roadmap-incidents-lead = Incidents will reach dispatchers within seconds of an unhappy answer.
roadmap-incidents-1 = Alert rules on detractors, low ratings and keywords
roadmap-incidents-2 = A live queue with the customer's phone and order at hand
roadmap-incidents-3 = Call-back outcome recorded on the incident
roadmap-incidents-4 = A call-back queue for low ratings
roadmap-cases-lead = Cases from every channel will come into one inbox, each owned to closure.
roadmap-cases-1 = Phone, chat, messengers, social networks, the app and e-mail
roadmap-cases-2 = Category playbooks with remedies and compensation to the bonus account
roadmap-cases-3 = SLA timers, first-contact resolution and fault attribution
roadmap-cases-4 = The customer's personal file and a live status page for the customer
roadmap-calls-lead = Contact-center figures will be computed from call records.
roadmap-calls-1 = Asterisk queue_log and CDR imports, and a JSON API
roadmap-calls-2 = Answer rate, service level 80/20, average speed of answer
roadmap-calls-3 = Average handle time and abandonment rate by line
roadmap-calls-4 = Late orders detected before the customer calls
