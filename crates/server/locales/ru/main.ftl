## Рамка
nav-label = Главное меню
nav-dashboard = Сводка
nav-surveys = Опросы
nav-incidents = Инциденты
nav-cases = Обращения
nav-orders = Заказы
nav-calls = Звонки
nav-settings = Настройки
language = Язык
language-apply = Применить
logout = Выйти

role-admin = Администратор
role-quality = Менеджер по качеству
role-dispatcher = Диспетчер
role-operator = Оператор поддержки

## Страницы ошибок
status-403-heading = Недоступно для вашей роли
status-403-text = Эта страница закрыта для вашей учётной записи. Если она нужна вам для работы, попросите администратора сменить роль.
status-404-heading = Здесь ничего нет
status-404-text = Такой страницы или записи нет. Проверьте адрес или найдите нужное на странице «Заказы».
status-500-heading = Что-то пошло не так
status-500-text = Сервер не смог выполнить запрос, ничего не изменено. Попробуйте ещё раз; если ошибка повторяется, сообщите администратору время, когда она случилась.
status-home = К заказам

## Вход
login-title = Вход
login-login = Логин
login-password = Пароль
login-submit = Войти
login-failed = Неверный логин или пароль. Проверьте раскладку и Caps Lock и попробуйте ещё раз.
login-throttled = Слишком много неудачных попыток входа с этим логином. Попробуйте снова через { $minutes } мин. или попросите администратора сменить пароль.
login-expired = Форма входа устарела. Введите пароль ещё раз.

## Заказы
orders-title = Заказы
orders-found = { $count ->
    [one] Найден { $count } заказ
    [few] Найдено { $count } заказа
   *[many] Найдено { $count } заказов
}
orders-search = Номер заказа или телефон клиента
orders-search-hint = например, A-10234 или 8 916 123-45-67
orders-bad-date = «{ $value }» — не дата; выберите дату в календаре (ГГГГ-ММ-ДД). Этот фильтр не применён.
orders-local-times = Обещанные окна и время доставки указаны по местному времени города заказа.
orders-none-match = Под эти фильтры заказов нет. Расширьте период или сбросьте фильтры.
orders-none-yet = Заказов пока нет. Загрузите первую выгрузку из учётной системы:
col-order = Заказ
col-window = Обещанное окно
col-status = Статус
col-customer = Клиент
col-city = Город
col-partner = Партнёр
col-courier = Курьер
col-amount = Сумма
filter-all = Все
filter-from = С
filter-to = По
filter-apply = Показать
filter-reset = Сбросить
status-pending = Ожидается
status-late = Опаздывает
status-delivered_on_time = Вовремя
status-delivered_late = Доставлен с опозданием
segment-new = новый клиент
segment-repeat = повторный клиент
pager-label = Страницы
pager-prev = Назад
pager-next = Дальше
pager-page = Страница

order-title = Заказ { $number }
order-delivery = Доставка
order-delivered = Доставлен
order-not-delivered = ещё не доставлен
order-customer = Клиент
order-imported = Загружен
order-updated = изменён

order-survey = Опрос у двери
order-survey-none = По этому заказу ответов на опрос пока нет.
response-completed = Ответил
response-refused = Отказ
response-timed_out = Не дождались ответа
response-mode-handover = клиент отвечал сам
response-mode-interviewer = курьер спрашивал вслух
response-mode-terminal = на терминале
response-mode-link = по ссылке
response-mode-api = передано системой
response-how = { $mode }, { $seconds } с
answer-yes = Да
answer-no = Нет
response-review-opened = Перешёл по ссылке для отзыва
answer-attachment = вложение сохранено
answer-attachment-gone = удалено по сроку хранения
answer-photo = Фото у двери

customer-title = Клиент
customer-unnamed = Клиент без имени
customer-name = Имя
customer-phone = Телефон
customer-email = Эл. почта
customer-segment = Сегмент
customer-orders = Заказы
customer-late = Заказы с опозданием
customer-first = Первый заказ
customer-last = Последний заказ
customer-all-orders = Все заказы клиента

surveys-lead = Опубликованные опросы в текущих версиях. Терминал и ссылка для клиента получают опрос, условия которого подходят заказу.
surveys-none = Опросов пока нет. Опубликуйте опрос через API: POST /api/v1/surveys (см. README).
surveys-edit-note = Чтобы изменить опрос, опубликуйте следующую версию через PUT /api/v1/surveys/{"{"}id{"}"}: ответы сохраняют версию, на которую отвечали. Конструктор опросов в консоли появится в одном из следующих выпусков.
surveys-col-name = Опрос
surveys-col-version = Версия
surveys-col-questions = Вопросов
surveys-col-languages = Языки
surveys-col-targeting = Для заказов
surveys-col-updated = Опубликован
surveys-every-order = все заказы
surveys-sample = 1 из { $n }
surveys-priority = приоритет { $priority }
survey-version = Версия { $version }
survey-timeout = закрывается как «не дождались ответа» через { $seconds } с без ответа
survey-no-timeout = без ограничения времени
survey-measures = измеряет { $what }
survey-weight = вес { $weight }
survey-required = обязательный
survey-after-consent = предлагается только после согласия
survey-other = Другое (свой ответ)
survey-show-if = показывается, если «{ $question }»: { $condition }
survey-preview = Как видит клиент
question-nps = NPS 0–10
question-scale = Шкала
question-single_choice = Один вариант
question-multi_choice = Несколько вариантов
question-text = Свободный ответ
question-voice = Голосовое сообщение
question-photo = Фото
question-consent = Согласие

link-title = Как прошла доставка?
link-send = Отправить
link-refuse = Нет, спасибо
link-answer-needed = Пожалуйста, ответьте: «{ $question }»
link-thanks-heading = Спасибо!
link-thanks-text = Ваши ответы получены. Они помогают курьерам и службе поддержки работать лучше.
link-refused-heading = Всё равно спасибо
link-refused-text = Больше не будем спрашивать об этом заказе.
link-answered-heading = Уже отвечено
link-answered-text = На этот опрос уже ответили. Спасибо, что уделили время!
link-expired-heading = Срок действия ссылки истёк
link-expired-text = Опрос по этому заказу закрыт. Если с заказом что-то не так, напишите в поддержку.
link-unknown-heading = Ссылка не найдена
link-unknown-text = Проверьте, что ссылка скопирована из сообщения целиком.

## Настройки
settings-title = Настройки
settings-saved = Настройки сохранены.
settings-user-added = Учётная запись добавлена. Передайте сотруднику логин и пароль.
settings-token-revoked = Токен отозван: доступ к API по нему закрыт.
settings-login-taken = Логин «{ $login }» занят, выберите другой.
settings-token-name-required = Дайте токену имя (до 100 символов), по которому понятно, какая система им пользуется.
settings-no-courier = Курьера «{ $id }» нет. Курьеры появляются вместе с загруженными заказами.
settings-deployment = Компания
settings-name = Название компании
settings-time-zone = Часовой пояс
settings-time-zone-hint = В этом поясе читается местное время в выгрузках, считаются дни и недели.
settings-phone-country = Страна телефонов
settings-phone-country-hint = Подставляется для номеров без кода страны.
settings-currency = Валюта
settings-save = Сохранить
settings-users = Сотрудники
settings-login = Логин
settings-role = Роль
settings-created = Создан
settings-add-user = Добавить сотрудника
settings-password = Пароль
settings-password-hint = Не короче 10 символов.
settings-tokens = API-токены и терминалы
settings-tokens-explain = Интеграционные токены нужны учётным системам компании, чтобы передавать заказы; терминальные принадлежат устройствам курьеров. Токен показывается один раз — при создании.
settings-no-tokens = Токенов пока нет.
settings-token-name = Название
settings-last-used = Последнее использование
settings-revoked = Отозван
settings-revoke = Отозвать
settings-new-token = Новый интеграционный токен
settings-create-token = Создать токен
settings-enroll = Подключить терминал курьера
settings-enroll-no-couriers = Курьеры появятся здесь после загрузки заказов с курьерами.
settings-enroll-button = Получить код подключения

secret-token-heading = Токен «{ $name }» создан
secret-token-explain = Скопируйте его сейчас в систему, которая будет обращаться к API. Он показывается только один раз: Doorstep хранит лишь его отпечаток.
secret-code-heading = Код подключения для { $courier }
secret-code-explain = Курьер открывает терминал на устройстве и вводит этот код. Код одноразовый и действует { $hours } ч.
secret-done = Готово

## Разделы, которые появятся позже
roadmap-meanwhile = Этот раздел появится в одном из ближайших выпусков. Заказы, клиенты и учётные записи работают уже сейчас.
roadmap-dashboard-lead = Сводка покажет, как клиенты оценивают доставку, — в реальном времени и за любой период.
roadmap-dashboard-1 = NPS, CSI, CES, CSAT и NetEasy — каждый с размером выборки и 95% интервалом
roadmap-dashboard-2 = Доля ответов и отказов, доля доставок вовремя, решение с первого обращения
roadmap-dashboard-3 = Разрезы по курьерам, городам, партнёрам, сегментам, опросам и каналам; динамика на графиках
roadmap-dashboard-4 = Отчёты за любой период в CSV, XLSX и для печати
roadmap-incidents-lead = Инциденты будут доходить до диспетчеров за секунды после недовольного ответа.
roadmap-incidents-1 = Правила оповещений: критики, низкие оценки, ключевые слова
roadmap-incidents-2 = Живая очередь с телефоном клиента и заказом под рукой
roadmap-incidents-3 = Результат обратного звонка фиксируется в инциденте
roadmap-incidents-4 = Очередь обратных звонков по низким оценкам
roadmap-cases-lead = Обращения из всех каналов попадут в один ящик, и у каждого будет ответственный до закрытия.
roadmap-cases-1 = Телефон, чат, мессенджеры, соцсети, приложение и почта
roadmap-cases-2 = Сценарии по категориям с решениями и компенсацией на бонусный счёт
roadmap-cases-3 = Таймеры SLA, решение с первого обращения и определение виновного отдела
roadmap-cases-4 = Личное дело клиента и страница статуса обращения для клиента
roadmap-calls-lead = Показатели контакт-центра будут считаться по записям звонков.
roadmap-calls-1 = Загрузка queue_log и CDR из Asterisk, а также JSON API
roadmap-calls-2 = Доля принятых звонков, уровень сервиса 80/20, среднее время ответа
roadmap-calls-3 = Среднее время обработки и доля потерянных звонков по линиям
roadmap-calls-4 = Опоздания заказов видны раньше, чем клиент позвонит
